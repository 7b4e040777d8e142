/**
 * The App commands a Linux KCS driver sends while bringing up /dev/ipmi0
 * (PROTOCOL.md §4, KVM-NOTES.md): Get/Set BMC Global Enables, Get/Clear
 * Message Flags, Get Message, Read Event Message Buffer. Get Device ID, Get
 * Device GUID and Get Channel Info come from the standard commands.
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
} as const;

/** "Data not available": no message / no event waiting (Get Message, Read Event Message Buffer, §22.6/§22.8). */
const CC_DATA_NOT_AVAILABLE = 0x80;

function lengthIs(data: Uint8Array, n: number): boolean {
  return data.length === n;
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
  ];
}

export function registerSystemInterfaceCommands(registry: CommandRegistry, state: HostInterfaceState): void {
  for (const spec of systemInterfaceCommandSpecs(state)) registry.register(spec);
}
