/**
 * The commands a SOL console uses (IPMI v2.0 §24, §26): Activate /
 * Deactivate Payload, Get Payload Activation Status, Get Channel Payload
 * Support / Version, Get / Set SOL Configuration Parameters. Payload type 1
 * (SOL) instance 1 only.
 */
import {
  decodeActivatePayloadRequest,
  encodeActivatePayloadResponse,
  encodePayloadActivationStatus,
  PayloadCommand,
  PayloadCompletion,
  PayloadType,
  SOL_PARAM_REVISION,
  SolConfigCommand,
} from '@backchannel/proto';
import { CompletionCode } from '../commands/completion-codes.js';
import type { CommandContext, CommandResult } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import { SOL_MAX_DATA, type SolBridge } from './sol-bridge.js';
import type { SolSettings } from './sol-settings.js';

const NETFN_APP = 0x06;
const NETFN_TRANSPORT = 0x0c;
const SOL_INSTANCE = 1;
const NO_VLAN = 0xffff;

export interface SolCommandDeps {
  bridge: SolBridge;
  settings: SolSettings;
  now: () => number;
  /** Logs (activated / deactivated), optional. */
  onChange?: (what: 'activated' | 'deactivated', sessionId: number, by: number | undefined) => void;
}

export function activatePayload(deps: SolCommandDeps, ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length !== 6) return { cc: CompletionCode.RequestLengthInvalid };
  const req = decodeActivatePayloadRequest(data);
  if (req.payloadType !== PayloadType.SOL) return { cc: CompletionCode.InvalidDataField };
  if (req.instance !== SOL_INSTANCE) return { cc: PayloadCompletion.ACTIVATION_LIMIT };
  const session = ctx.session;
  if (!session) return { cc: CompletionCode.InvalidCommand };
  if (ctx.privilege < deps.settings.privilege) return { cc: CompletionCode.InsufficientPrivilege };
  // Every session here is encrypted and authenticated (suites 3 and 17 only), so a request without either is refused when forced.
  if (deps.settings.forceEncryption && !req.encrypt) return { cc: PayloadCompletion.CANNOT_WITHOUT_ENCRYPTION };
  const outcome = deps.bridge.activate(session.id, session.userName, deps.now());
  if (outcome === 'disabled') return { cc: PayloadCompletion.TYPE_DISABLED };
  if (outcome === 'already-active') return { cc: PayloadCompletion.ALREADY_ACTIVE };
  if (outcome === 'activation-limit') return { cc: PayloadCompletion.ACTIVATION_LIMIT };
  deps.onChange?.('activated', session.id, session.id);
  const size = SOL_MAX_DATA + 4;
  return { cc: CompletionCode.Ok, data: encodeActivatePayloadResponse({ inboundPayloadSize: size, outboundPayloadSize: size, port: deps.settings.port, vlan: NO_VLAN }) };
}

export function deactivatePayload(deps: SolCommandDeps, ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length !== 6) return { cc: CompletionCode.RequestLengthInvalid };
  if ((data[0]! & 0x3f) !== PayloadType.SOL) return { cc: CompletionCode.InvalidDataField };
  if ((data[1]! & 0x0f) !== SOL_INSTANCE) return { cc: CompletionCode.InvalidDataField };
  if (ctx.privilege < deps.settings.privilege) return { cc: CompletionCode.InsufficientPrivilege };
  const active = deps.bridge.activation;
  const holder = active?.sessionId;
  // Another session's console is ended by an administrator, or by the same user (a console
  // reconnecting after its old session was lost, before the BMC timed that session out).
  const sameUser = active !== undefined && ctx.session !== undefined && active.userName === ctx.session.userName;
  if (holder !== undefined && holder !== ctx.session?.id && ctx.privilege < Privilege.Administrator && !sameUser) return { cc: CompletionCode.InsufficientPrivilege };
  if (deps.bridge.deactivate(ctx.session?.id) === 'not-active') return { cc: PayloadCompletion.ALREADY_ACTIVE /* 0x80: "payload already deactivated" */ };
  if (holder !== undefined) deps.onChange?.('deactivated', holder, ctx.session?.id);
  return { cc: CompletionCode.Ok };
}

export function getPayloadActivationStatus(deps: SolCommandDeps, _ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  if ((data[0]! & 0x3f) !== PayloadType.SOL) return { cc: CompletionCode.Ok, data: encodePayloadActivationStatus({ capacity: 0, active: [] }) };
  return { cc: CompletionCode.Ok, data: encodePayloadActivationStatus({ capacity: 1, active: deps.bridge.activation ? [SOL_INSTANCE] : [] }) };
}

export function getSolConfig(deps: SolCommandDeps, _ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length !== 4) return { cc: CompletionCode.RequestLengthInvalid };
  const revisionOnly = (data[0]! & 0x80) !== 0;
  if (revisionOnly) return { cc: CompletionCode.Ok, data: Uint8Array.of(SOL_PARAM_REVISION) };
  const value = deps.settings.get(data[1]!);
  if (typeof value === 'number') return { cc: value };
  const out = new Uint8Array(1 + value.length);
  out[0] = SOL_PARAM_REVISION;
  out.set(value, 1);
  return { cc: CompletionCode.Ok, data: out };
}

export function setSolConfig(deps: SolCommandDeps, _ctx: CommandContext, data: Uint8Array): CommandResult {
  if (data.length < 3) return { cc: CompletionCode.RequestLengthInvalid };
  return { cc: deps.settings.set(data[1]!, data.subarray(2)) };
}

export function registerSolCommands(registry: CommandRegistry, deps: SolCommandDeps): void {
  const lan = { channel: 'lan' as const };
  registry.register({ name: 'activate-payload', netfn: NETFN_APP, cmd: PayloadCommand.ACTIVATE_PAYLOAD, privilege: Privilege.User, ...lan, handler: (c, d) => activatePayload(deps, c, d) });
  registry.register({ name: 'deactivate-payload', netfn: NETFN_APP, cmd: PayloadCommand.DEACTIVATE_PAYLOAD, privilege: Privilege.User, ...lan, handler: (c, d) => deactivatePayload(deps, c, d) });
  registry.register({
    name: 'get-payload-activation-status',
    netfn: NETFN_APP,
    cmd: PayloadCommand.GET_PAYLOAD_ACTIVATION_STATUS,
    privilege: Privilege.User,
    ...lan,
    handler: (c, d) => getPayloadActivationStatus(deps, c, d),
  });
  // Standard payloads IPMI (bit 0) and SOL (bit 1); session setup payloads 0x10-0x15; no OEM payloads.
  registry.register({
    name: 'get-channel-payload-support',
    netfn: NETFN_APP,
    cmd: PayloadCommand.GET_CHANNEL_PAYLOAD_SUPPORT,
    privilege: Privilege.User,
    channel: 'both',
    handler: (_c, d) => (d.length !== 1 ? { cc: CompletionCode.RequestLengthInvalid } : { cc: CompletionCode.Ok, data: Uint8Array.of(0x03, 0x00, 0x3f, 0x00, 0, 0, 0, 0) }),
  });
  registry.register({
    name: 'get-channel-payload-version',
    netfn: NETFN_APP,
    cmd: PayloadCommand.GET_CHANNEL_PAYLOAD_VERSION,
    privilege: Privilege.User,
    channel: 'both',
    handler: (_c, d) => (d.length !== 2 ? { cc: CompletionCode.RequestLengthInvalid } : (d[1]! & 0x3f) > PayloadType.SOL ? { cc: 0x80 } : { cc: CompletionCode.Ok, data: Uint8Array.of(0x10) }),
  });
  registry.register({ name: 'get-sol-config', netfn: NETFN_TRANSPORT, cmd: SolConfigCommand.GET, privilege: Privilege.User, channel: 'both', handler: (c, d) => getSolConfig(deps, c, d) });
  registry.register({ name: 'set-sol-config', netfn: NETFN_TRANSPORT, cmd: SolConfigCommand.SET, privilege: Privilege.Administrator, channel: 'both', handler: (c, d) => setSolConfig(deps, c, d) });
}
