/**
 * The App NetFn commands that set up and run LAN sessions: Get Channel
 * Authentication Capabilities (§22.13), Get Session Challenge (§22.16,
 * refused: no IPMI v1.5 sessions), Set Session Privilege Level (§22.18),
 * Close Session (§22.19) and Get Channel Cipher Suites (§22.15).
 */
import { CommandCompletionCode } from '@backchannel/proto';
import { CompletionCode } from './completion-codes.js';
import type { CommandRegistry } from './registry.js';
import type { CommandResult, SessionControl } from './command-types.js';
import { isPrivilegeLevel, Privilege, type PrivilegeLevel } from './privilege.js';
import { NETFN_APP } from './device-commands.js';

export const SessionCmd = {
  GetChannelAuthCapabilities: 0x38,
  GetSessionChallenge: 0x39,
  ActivateSession: 0x3a,
  SetSessionPrivilegeLevel: 0x3b,
  CloseSession: 0x3c,
  GetChannelCipherSuites: 0x54,
} as const;

/** "This channel" in channel-number fields (§6.3). */
export const CURRENT_CHANNEL = 0x0e;

export type CloseSessionOutcome = 'closed' | 'not-found';

export interface SessionCommandDeps {
  /** The LAN channel number reported to consoles (1 on most BMCs). */
  lanChannel: number;
  /** The enabled suites as cipher suite records (§22.15, list type "by cipher suite"), concatenated. */
  cipherSuiteRecords: Uint8Array;
  /** The enabled algorithms, one tagged byte each (§22.15, list type "supported algorithms"). */
  supportedAlgorithms: Uint8Array;
  /** Closes another session by id (the caller is an administrator); the caller's own session is closed through SessionControl. */
  closeSession(id: number): CloseSessionOutcome;
}

/** Set Session Privilege Level (§22.18) and Close Session (§22.19) completion codes. */
const CC_PRIV_NOT_AVAILABLE = CommandCompletionCode.SET_PRIV_NOT_AVAILABLE_FOR_USER;
const CC_PRIV_EXCEEDS_LIMIT = CommandCompletionCode.SET_PRIV_EXCEEDS_LIMIT;
const CC_INVALID_SESSION_ID = CommandCompletionCode.CLOSE_INVALID_SESSION_ID;
const CC_INVALID_SESSION_HANDLE = CommandCompletionCode.CLOSE_INVALID_SESSION_HANDLE;

/** Cipher suite data comes back 16 bytes per list index (§22.15). */
const CIPHER_DATA_CHUNK = 16;
const MAX_LIST_INDEX = 0x3f;

function channelMatches(requested: number, lanChannel: number): boolean {
  return requested === CURRENT_CHANNEL || requested === lanChannel;
}

export function getChannelAuthCapabilities(lanChannel: number, data: Uint8Array): CommandResult {
  if (data.length !== 2) return { cc: CompletionCode.RequestLengthInvalid };
  const b0 = data[0] ?? 0;
  const wantsV2 = (b0 & 0x80) !== 0;
  const level = (data[1] ?? 0) & 0x0f;
  if (!channelMatches(b0 & 0x0f, lanChannel) || !isPrivilegeLevel(level)) return { cc: CompletionCode.InvalidDataField };
  return {
    cc: CompletionCode.Ok,
    data: Uint8Array.of(
      lanChannel,
      // No IPMI v1.5 authentication type is offered (not even "none"); bit 7
      // says extended (v2.0) data follows when the console asked for it.
      wantsV2 ? 0x80 : 0x00,
      // Bit 2: non-null user names enabled; null names and anonymous login
      // are off; bit 3 (KG) clear: the user key doubles as KG.
      0x04,
      // Bit 1: IPMI v2.0 (RMCP+) connections supported; bit 0 (v1.5) clear.
      wantsV2 ? 0x02 : 0x00,
      0x00, 0x00, 0x00, // OEM IANA: none
      0x00, // OEM auxiliary data
    ),
  };
}

export function getChannelCipherSuites(deps: Pick<SessionCommandDeps, 'lanChannel' | 'cipherSuiteRecords' | 'supportedAlgorithms'>, data: Uint8Array): CommandResult {
  if (data.length !== 3) return { cc: CompletionCode.RequestLengthInvalid };
  const channel = (data[0] ?? 0) & 0x0f;
  const payloadType = (data[1] ?? 0) & 0x3f;
  const byCipherSuite = ((data[2] ?? 0) & 0x80) !== 0;
  const index = (data[2] ?? 0) & 0x3f;
  // Payload types 0 (IPMI) and 1 (SOL) are the standard ones; we carry only IPMI but report the same suites for both, as ipmitool and BMCs do.
  if (!channelMatches(channel, deps.lanChannel) || payloadType > 1 || index > MAX_LIST_INDEX) return { cc: CompletionCode.InvalidDataField };
  const all = byCipherSuite ? deps.cipherSuiteRecords : deps.supportedAlgorithms;
  const chunk = all.subarray(Math.min(all.length, index * CIPHER_DATA_CHUNK), Math.min(all.length, (index + 1) * CIPHER_DATA_CHUNK));
  const out = new Uint8Array(1 + chunk.length);
  out[0] = deps.lanChannel;
  out.set(chunk, 1);
  return { cc: CompletionCode.Ok, data: out };
}

export function setSessionPrivilegeLevel(session: SessionControl | undefined, current: PrivilegeLevel, data: Uint8Array): CommandResult {
  if (session === undefined) return { cc: CompletionCode.InsufficientPrivilege };
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  const requested = (data[0] ?? 0) & 0x0f;
  if (requested === 0) return { cc: CompletionCode.Ok, data: Uint8Array.of(current) }; // 0: report, no change
  if (!isPrivilegeLevel(requested)) return { cc: CompletionCode.InvalidDataField };
  if (requested === Privilege.Callback) return { cc: CC_PRIV_NOT_AVAILABLE }; // no callback sessions on this BMC
  if (requested > session.maxPrivilege) return { cc: CC_PRIV_EXCEEDS_LIMIT };
  session.setPrivilege(requested);
  return { cc: CompletionCode.Ok, data: Uint8Array.of(requested) };
}

export function closeSession(
  deps: Pick<SessionCommandDeps, 'closeSession'>,
  session: SessionControl | undefined,
  privilege: PrivilegeLevel,
  data: Uint8Array,
): CommandResult {
  if (session === undefined) return { cc: CompletionCode.InsufficientPrivilege };
  if (data.length !== 4 && data.length !== 5) return { cc: CompletionCode.RequestLengthInvalid };
  const id = ((data[0] ?? 0) | ((data[1] ?? 0) << 8) | ((data[2] ?? 0) << 16) | ((data[3] ?? 0) << 24)) >>> 0;
  // Session 0 means "by handle"; this BMC does not expose session handles.
  if (id === 0) return { cc: data.length === 5 ? CC_INVALID_SESSION_HANDLE : CompletionCode.RequestLengthInvalid };
  if (id === session.id) {
    session.closeAfterResponse();
    return { cc: CompletionCode.Ok };
  }
  // Closing somebody else's session takes an administrator (§22.19).
  if (privilege < Privilege.Administrator) return { cc: CompletionCode.InsufficientPrivilege };
  return deps.closeSession(id) === 'closed' ? { cc: CompletionCode.Ok } : { cc: CC_INVALID_SESSION_ID };
}

export function registerSessionCommands(registry: CommandRegistry, deps: SessionCommandDeps): void {
  registry.register({
    name: 'get-channel-auth-capabilities',
    netfn: NETFN_APP,
    cmd: SessionCmd.GetChannelAuthCapabilities,
    privilege: Privilege.Callback,
    channel: 'lan',
    preSession: true,
    handler: (_ctx, data) => getChannelAuthCapabilities(deps.lanChannel, data),
  });
  registry.register({
    name: 'get-channel-cipher-suites',
    netfn: NETFN_APP,
    cmd: SessionCmd.GetChannelCipherSuites,
    privilege: Privilege.Callback,
    channel: 'lan',
    preSession: true,
    handler: (_ctx, data) => getChannelCipherSuites(deps, data),
  });
  registry.register({
    name: 'get-session-challenge',
    netfn: NETFN_APP,
    cmd: SessionCmd.GetSessionChallenge,
    privilege: Privilege.Callback,
    channel: 'lan',
    preSession: true,
    // IPMI v1.5 sessions are refused: whatever authentication type is asked
    // for is not supported on this channel (§22.16: CCh).
    handler: () => ({ cc: CompletionCode.InvalidDataField }),
  });
  registry.register({
    name: 'set-session-privilege-level',
    netfn: NETFN_APP,
    cmd: SessionCmd.SetSessionPrivilegeLevel,
    privilege: Privilege.Callback,
    channel: 'lan',
    handler: (ctx, data) => setSessionPrivilegeLevel(ctx.session, ctx.privilege, data),
  });
  registry.register({
    name: 'close-session',
    netfn: NETFN_APP,
    cmd: SessionCmd.CloseSession,
    privilege: Privilege.Callback,
    channel: 'lan',
    handler: (ctx, data) => closeSession(deps, ctx.session, ctx.privilege, data),
  });
}
