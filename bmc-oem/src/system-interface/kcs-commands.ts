/**
 * The App commands a Linux KCS driver sends while bringing up /dev/ipmi0
 * (PROTOCOL.md §4, KVM-NOTES.md): Get/Set BMC Global Enables, Get/Clear
 * Message Flags, Get Message, Read Event Message Buffer, Get Channel Info.
 * Get Device ID and Get Device GUID come from the standard commands.
 */
import { CompletionCode } from '../commands/completion-codes.js';
import type { CommandContext, CommandResult, CommandSpec } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { HostInterfaceState } from './host-interface-state.js';

export const NETFN_APP = 0x06;

export const KcsAppCmd = {
  SetBmcGlobalEnables: 0x2e,
  GetBmcGlobalEnables: 0x2f,
  ClearMessageFlags: 0x30,
  GetMessageFlags: 0x31,
  GetMessage: 0x33,
  ReadEventMessageBuffer: 0x35,
  GetChannelInfo: 0x42,
} as const;

/** "Data not available": no message / no event waiting (Get Message, Read Event Message Buffer, §22.6/§22.8). */
const CC_DATA_NOT_AVAILABLE = 0x80;

/** Channel numbers this BMC has: 1 = the LAN (RMCP+), 15 = the system interface. */
export const LAN_CHANNEL = 0x01;
export const SYSTEM_CHANNEL = 0x0f;
const CURRENT_CHANNEL = 0x0e;
/** IPMI Forum IANA (7154), LSB first, as Get Channel Info's vendor id (§22.24). */
const IPMI_FORUM_IANA = [0xf2, 0x1b, 0x00] as const;

interface ChannelDescription {
  medium: number;
  protocol: number;
  /** bits 7:6 of byte 4: 00 session-less, 10 multi-session. */
  sessionSupport: number;
}
const CHANNELS: Record<number, ChannelDescription> = {
  // 802.3 LAN, IPMB-1.0 protocol (used for IPMI over LAN), multi-session.
  [LAN_CHANNEL]: { medium: 0x04, protocol: 0x01, sessionSupport: 0x80 },
  // System interface (KCS), session-less.
  [SYSTEM_CHANNEL]: { medium: 0x0c, protocol: 0x05, sessionSupport: 0x00 },
};

function lengthIs(data: Uint8Array, n: number): boolean {
  return data.length === n;
}

export function getChannelInfo(ctx: CommandContext, data: Uint8Array): CommandResult {
  if (!lengthIs(data, 1)) return { cc: CompletionCode.RequestLengthInvalid };
  let channel = (data[0] ?? 0) & 0x0f;
  if (channel === CURRENT_CHANNEL) channel = ctx.channel === 'lan' ? LAN_CHANNEL : SYSTEM_CHANNEL;
  const c = CHANNELS[channel];
  // A channel we do not have: the kernel's scan treats any error as "absent" and moves on.
  if (c === undefined) return { cc: CompletionCode.InvalidDataField };
  return { cc: CompletionCode.Ok, data: Uint8Array.of(channel, c.medium, c.protocol, c.sessionSupport, ...IPMI_FORUM_IANA, 0x00, 0x00) };
}

export function systemInterfaceCommandSpecs(state: HostInterfaceState): CommandSpec[] {
  const none = (fn: () => CommandResult) => (_ctx: CommandContext, data: Uint8Array) => (lengthIs(data, 0) ? fn() : { cc: CompletionCode.RequestLengthInvalid });
  const sys = (name: string, cmd: number, handler: CommandSpec['handler']): CommandSpec => ({
    name,
    netfn: NETFN_APP,
    cmd,
    privilege: Privilege.Administrator,
    channel: 'system',
    handler,
  });
  return [
    sys('set-bmc-global-enables', KcsAppCmd.SetBmcGlobalEnables, (_ctx, data) => {
      if (!lengthIs(data, 1)) return { cc: CompletionCode.RequestLengthInvalid };
      state.globalEnables = data[0] ?? 0;
      return { cc: CompletionCode.Ok };
    }),
    sys('get-bmc-global-enables', KcsAppCmd.GetBmcGlobalEnables, none(() => ({ cc: CompletionCode.Ok, data: Uint8Array.of(state.globalEnables) }))),
    sys('clear-message-flags', KcsAppCmd.ClearMessageFlags, (_ctx, data) =>
      // OEM0 reflects queue 1 and cannot be cleared by the host; the other flags are never set here.
      lengthIs(data, 1) ? { cc: CompletionCode.Ok } : { cc: CompletionCode.RequestLengthInvalid },
    ),
    sys('get-message-flags', KcsAppCmd.GetMessageFlags, none(() => ({ cc: CompletionCode.Ok, data: Uint8Array.of(state.messageFlags()) }))),
    sys('get-message', KcsAppCmd.GetMessage, none(() => ({ cc: CC_DATA_NOT_AVAILABLE }))),
    sys('read-event-message-buffer', KcsAppCmd.ReadEventMessageBuffer, none(() => ({ cc: CC_DATA_NOT_AVAILABLE }))),
    {
      name: 'get-channel-info',
      netfn: NETFN_APP,
      cmd: KcsAppCmd.GetChannelInfo,
      privilege: Privilege.User,
      channel: 'both',
      handler: getChannelInfo,
    },
  ];
}

export function registerSystemInterfaceCommands(registry: CommandRegistry, state: HostInterfaceState): void {
  for (const spec of systemInterfaceCommandSpecs(state)) registry.register(spec);
}
