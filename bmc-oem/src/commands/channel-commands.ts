/**
 * Channel and session information (IPMI v2.0 §22.22-22.24, §22.20): Get
 * Channel Info (LAN channel 1 and the system interface 15, with the number
 * of active LAN sessions), Get Channel Access, Get Session Info.
 */
import { CompletionCode } from './completion-codes.js';
import type { CommandContext, CommandResult, SessionSummary } from './command-types.js';
import { NETFN_APP } from './device-commands.js';
import { Privilege } from './privilege.js';
import type { CommandRegistry } from './registry.js';

export const ChannelCmd = { GetChannelAccess: 0x41, GetChannelInfo: 0x42, GetSessionInfo: 0x3d } as const;

/** Channel numbers this BMC has: 1 = the LAN (RMCP+), 15 = the system interface. */
export const SYSTEM_CHANNEL = 0x0f;
const CURRENT_CHANNEL = 0x0e;
/** IPMI Forum IANA (7154), LSB first, as Get Channel Info's vendor id (§22.24). */
const IPMI_FORUM_IANA = [0xf2, 0x1b, 0x00] as const;
/** "Requested sensor, data, or record not present". */
const CC_NOT_PRESENT = 0xcb;
/** Session counts are six-bit fields. */
const MAX_COUNT = 0x3f;

export interface ChannelCommandDeps {
  lanChannel: number;
  /** The bound on LAN sessions (reported capped at 63). */
  maxSessions: number;
  activeSessions(): readonly SessionSummary[];
}

function resolveChannel(ctx: CommandContext, requested: number, lanChannel: number): number {
  return requested === CURRENT_CHANNEL ? (ctx.channel === 'lan' ? lanChannel : SYSTEM_CHANNEL) : requested;
}

export function getChannelInfo(deps: ChannelCommandDeps, ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  const channel = resolveChannel(ctx, (data[0] ?? 0) & 0x0f, deps.lanChannel);
  if (channel === deps.lanChannel) {
    // 802.3 LAN, IPMB-1.0 protocol (used for IPMI over LAN), multi-session with the active count.
    const active = Math.min(MAX_COUNT, deps.activeSessions().length);
    return { cc: CompletionCode.Ok, data: Uint8Array.of(channel, 0x04, 0x01, 0x80 | active, ...IPMI_FORUM_IANA, 0x00, 0x00) };
  }
  // System interface (KCS), session-less.
  if (channel === SYSTEM_CHANNEL) return { cc: CompletionCode.Ok, data: Uint8Array.of(channel, 0x0c, 0x05, 0x00, ...IPMI_FORUM_IANA, 0x00, 0x00) };
  // A channel we do not have: the kernel's scan treats any error as "absent" and moves on.
  return { cc: CompletionCode.InvalidDataField };
}

export function getChannelAccess(deps: ChannelCommandDeps, ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length !== 2) return { cc: CompletionCode.RequestLengthInvalid };
  const channel = resolveChannel(ctx, (data[0] ?? 0) & 0x0f, deps.lanChannel);
  const which = ((data[1] ?? 0) >> 6) & 0x03;
  if (which !== 0x01 && which !== 0x02) return { cc: CompletionCode.InvalidDataField };
  // PEF alerting disabled (bit 5); per-message and user-level authentication on;
  // access mode "always available" (010b). The same non-volatile and volatile.
  if (channel === deps.lanChannel) return { cc: CompletionCode.Ok, data: Uint8Array.of(0x22, Privilege.Administrator) };
  if (channel === SYSTEM_CHANNEL) return { cc: CompletionCode.Ok, data: Uint8Array.of(0x22, Privilege.Administrator) };
  return { cc: CompletionCode.InvalidDataField };
}

function ipv4Bytes(peer: string): number[] | undefined {
  const m = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/i.exec(peer);
  if (m === null) return undefined;
  const port = Number(m[5]);
  // IP address most significant byte first, port least significant first (§22.20).
  return [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), 0, 0, 0, 0, 0, 0, port & 0xff, port >>> 8];
}

export function getSessionInfo(deps: ChannelCommandDeps, ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length < 1) return { cc: CompletionCode.RequestLengthInvalid };
  const sessions = deps.activeSessions();
  const index = data[0] ?? 0;
  let s: SessionSummary | undefined;
  if (index === 0x00) {
    if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
    s = ctx.session === undefined ? undefined : sessions.find((x) => x.id === ctx.session?.id);
  } else if (index === 0xfe) {
    if (data.length !== 2) return { cc: CompletionCode.RequestLengthInvalid };
    s = sessions.find((x) => x.handle === data[1]);
  } else if (index === 0xff) {
    if (data.length !== 5) return { cc: CompletionCode.RequestLengthInvalid };
    const id = ((data[1] ?? 0) | ((data[2] ?? 0) << 8) | ((data[3] ?? 0) << 16) | ((data[4] ?? 0) << 24)) >>> 0;
    s = sessions.find((x) => x.id === id);
  } else if (index <= MAX_COUNT) {
    if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
    s = sessions[index - 1];
  } else {
    return { cc: CompletionCode.InvalidDataField };
  }
  const head = [s?.handle ?? 0, Math.min(MAX_COUNT, deps.maxSessions), Math.min(MAX_COUNT, sessions.length)];
  // A session asked for by index, handle or id that does not exist: "not present" (ipmitool's
  // `session info all` stops there). The current session of a session-less request: counts only.
  if (s === undefined) return index === 0x00 ? { cc: CompletionCode.Ok, data: Uint8Array.from(head) } : { cc: CC_NOT_PRESENT };
  // IPMI v2.0/RMCP+ (1 in bits 7:4) on the LAN channel.
  const body = [s.userId & 0x3f, s.privilege & 0x0f, 0x10 | (deps.lanChannel & 0x0f), ...(ipv4Bytes(s.peer) ?? [])];
  return { cc: CompletionCode.Ok, data: Uint8Array.from([...head, ...body]) };
}

export function registerChannelCommands(registry: CommandRegistry, deps: ChannelCommandDeps): void {
  registry.register({ name: 'get-channel-info', netfn: NETFN_APP, cmd: ChannelCmd.GetChannelInfo, privilege: Privilege.User, channel: 'both', handler: (ctx, d) => getChannelInfo(deps, ctx, d) });
  registry.register({ name: 'get-channel-access', netfn: NETFN_APP, cmd: ChannelCmd.GetChannelAccess, privilege: Privilege.User, channel: 'both', handler: (ctx, d) => getChannelAccess(deps, ctx, d) });
  registry.register({ name: 'get-session-info', netfn: NETFN_APP, cmd: ChannelCmd.GetSessionInfo, privilege: Privilege.User, channel: 'both', handler: (ctx, d) => getSessionInfo(deps, ctx, d) });
}
