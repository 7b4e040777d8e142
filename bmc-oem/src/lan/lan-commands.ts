/**
 * Get / Set LAN Configuration Parameters (Transport NetFn 0x0C, IPMI v2.0
 * §23.1-23.2) on the LAN channel. Reading needs OPERATOR (the spec's
 * table), writing ADMINISTRATOR.
 */
import { CompletionCode } from '../commands/completion-codes.js';
import type { CommandResult } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { LanConfig } from './lan-config.js';

export const NETFN_TRANSPORT = 0x0c;
export const LanCmd = { SetLanConfigurationParameters: 0x01, GetLanConfigurationParameters: 0x02 } as const;

/** §23.1-23.2: parameter not supported; attempt to write a read-only parameter. */
const CC_PARAMETER_NOT_SUPPORTED = 0x80;
const CC_READ_ONLY = 0x82;
/** Parameter revision: 1.1. */
const PARAMETER_REVISION = 0x11;
const CURRENT_CHANNEL = 0x0e;

export function getLanParameter(lan: LanConfig, lanChannel: number, data: Uint8Array): CommandResult {
  if (data.length !== 4) return { cc: CompletionCode.RequestLengthInvalid };
  const channel = (data[0] ?? 0) & 0x0f;
  if (channel !== lanChannel && channel !== CURRENT_CHANNEL) return { cc: CompletionCode.InvalidDataField };
  if (((data[0] ?? 0) & 0x80) !== 0) return { cc: CompletionCode.Ok, data: Uint8Array.of(PARAMETER_REVISION) }; // revision only
  const r = lan.read(data[1] ?? 0);
  if (!r.ok) return { cc: CC_PARAMETER_NOT_SUPPORTED };
  return { cc: CompletionCode.Ok, data: Uint8Array.of(PARAMETER_REVISION, ...r.data) };
}

export function setLanParameter(lan: LanConfig, lanChannel: number, data: Uint8Array): CommandResult {
  if (data.length < 3) return { cc: CompletionCode.RequestLengthInvalid };
  const channel = (data[0] ?? 0) & 0x0f;
  if (channel !== lanChannel && channel !== CURRENT_CHANNEL) return { cc: CompletionCode.InvalidDataField };
  switch (lan.write(data[1] ?? 0, data.subarray(2))) {
    case 'ok':
      return { cc: CompletionCode.Ok };
    case 'unsupported':
      return { cc: CC_PARAMETER_NOT_SUPPORTED };
    case 'read-only':
      return { cc: CC_READ_ONLY };
    case 'length':
      return { cc: CompletionCode.RequestLengthInvalid };
    case 'invalid':
      return { cc: CompletionCode.InvalidDataField };
  }
}

export function registerLanCommands(registry: CommandRegistry, lan: LanConfig, lanChannel: number): void {
  registry.register({ name: 'get-lan-configuration-parameters', netfn: NETFN_TRANSPORT, cmd: LanCmd.GetLanConfigurationParameters, privilege: Privilege.Operator, channel: 'both', handler: (_c, d) => getLanParameter(lan, lanChannel, d) });
  registry.register({ name: 'set-lan-configuration-parameters', netfn: NETFN_TRANSPORT, cmd: LanCmd.SetLanConfigurationParameters, privilege: Privilege.Administrator, channel: 'both', handler: (_c, d) => setLanParameter(lan, lanChannel, d) });
}
