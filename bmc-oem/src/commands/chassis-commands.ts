/**
 * Chassis NetFn: Get Chassis Status (§28.2) and Chassis Control (§28.3),
 * both answered from a host-power backend.
 */
import { CompletionCode } from './completion-codes.js';
import type { CommandRegistry } from './registry.js';
import type { CommandResult } from './command-types.js';
import { CHASSIS_CONTROL_ACTIONS, type HostPowerBackend } from './host-power-port.js';
import { Privilege } from './privilege.js';

export const NETFN_CHASSIS = 0x00;
export const ChassisCmd = {
  GetChassisStatus: 0x01,
  ChassisControl: 0x02,
} as const;

/** Bits of "current power state" (§28.2 byte 1). */
const POWER_ON = 0x01;
const POWER_FAULT = 0x08;
const POWER_CONTROL_FAULT = 0x10;
/** Bits 6:5 = 11b: power restore policy unknown (we do not manage AC loss). */
const RESTORE_POLICY_UNKNOWN = 0x60;

export async function getChassisStatus(backend: HostPowerBackend, data: Uint8Array): Promise<CommandResult> {
  if (data.length !== 0) return { cc: CompletionCode.RequestLengthInvalid };
  const status = await backend.status();
  let state = RESTORE_POLICY_UNKNOWN;
  if (status === undefined) {
    // The backend cannot read power: report a power-control fault rather
    // than claim the host is off, so nobody mistakes "unknown" for "off".
    state |= POWER_CONTROL_FAULT;
  } else {
    if (status.powerOn) state |= POWER_ON;
    if (status.fault === true) state |= POWER_FAULT;
  }
  // Bytes 2 and 3: no last power event, no chassis intrusion/panel lockout.
  return { cc: CompletionCode.Ok, data: Uint8Array.of(state, 0x00, 0x00) };
}

export async function chassisControl(backend: HostPowerBackend, data: Uint8Array): Promise<CommandResult> {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  const action = CHASSIS_CONTROL_ACTIONS[(data[0] ?? 0xff) & 0x0f];
  if (action === undefined || ((data[0] ?? 0) & 0xf0) !== 0) return { cc: CompletionCode.InvalidDataField };
  const result = await backend.control(action);
  return { cc: result === 'done' ? CompletionCode.Ok : CompletionCode.NotSupportedInPresentState };
}

export function registerChassisCommands(registry: CommandRegistry, backend: HostPowerBackend): void {
  registry.register({
    name: 'get-chassis-status',
    netfn: NETFN_CHASSIS,
    cmd: ChassisCmd.GetChassisStatus,
    privilege: Privilege.User,
    channel: 'both',
    handler: (_ctx, data) => getChassisStatus(backend, data),
  });
  registry.register({
    name: 'chassis-control',
    netfn: NETFN_CHASSIS,
    cmd: ChassisCmd.ChassisControl,
    privilege: Privilege.Operator,
    channel: 'both',
    handler: (_ctx, data) => chassisControl(backend, data),
  });
}
