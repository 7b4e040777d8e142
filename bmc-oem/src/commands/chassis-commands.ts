/**
 * Chassis NetFn (IPMI v2.0 §28): Get Chassis Status, Chassis Control (to the
 * host-power backend, diag included), Chassis Identify, Set Power Restore
 * Policy, Get System Restart Cause and the system boot options. State that
 * outlives a command (policy, restart cause, boot flags) lives in chassis/.
 */
import type { BootOptions } from '../chassis/boot-options.js';
import { RestartCause, RestorePolicy, type ChassisState, type RestorePolicyValue } from '../chassis/chassis-state.js';
import { CompletionCode } from './completion-codes.js';
import type { CommandContext, CommandResult } from './command-types.js';
import type { CommandRegistry } from './registry.js';
import { CHASSIS_CONTROL_ACTIONS, type ChassisControlAction, type HostPowerBackend } from './host-power-port.js';
import { Privilege } from './privilege.js';

export const NETFN_CHASSIS = 0x00;
export const ChassisCmd = {
  GetChassisStatus: 0x01,
  ChassisControl: 0x02,
  ChassisIdentify: 0x04,
  SetPowerRestorePolicy: 0x06,
  GetSystemRestartCause: 0x07,
  SetSystemBootOptions: 0x08,
  GetSystemBootOptions: 0x09,
} as const;

/** Bits of "current power state" (§28.2 byte 1). */
const POWER_ON = 0x01;
const POWER_FAULT = 0x08;
const POWER_CONTROL_FAULT = 0x10;
/** Byte 2 bit 4: the last power-on came from an IPMI command. */
const LAST_POWER_ON_BY_IPMI = 0x10;
/** Byte 3 bit 6: Chassis Identify and its state (bits 5:4) are supported. */
const IDENTIFY_SUPPORTED = 0x40;
/** Set Power Restore Policy: the policies supported (bits 2:0: always off, previous, always on). */
const ALL_RESTORE_POLICIES = 0x07;
/** Boot options completion codes (§28.12): parameter not supported. */
const CC_PARAMETER_NOT_SUPPORTED = 0x80;
const BOOT_PARAMETER_VERSION = 0x01;
const DEFAULT_IDENTIFY_SECONDS = 15;

export type PowerActionOutcome = 'done' | 'failed' | 'unsupported';

export interface ChassisDeps {
  backend: HostPowerBackend;
  /** Policy, restart cause, identify; without it those read as "unknown"/off. */
  state?: ChassisState;
  boot?: BootOptions;
  /** Told after every Chassis Control (the SEL audit record). */
  onPowerAction?: (action: ChassisControlAction, outcome: PowerActionOutcome, ctx: CommandContext) => void;
}

export async function getChassisStatus(deps: ChassisDeps, data: Uint8Array): Promise<CommandResult> {
  if (data.length !== 0) return { cc: CompletionCode.RequestLengthInvalid };
  const status = await deps.backend.status();
  let state = (deps.state?.restorePolicy ?? RestorePolicy.Unknown) << 5;
  if (status === undefined) {
    // The backend cannot read power: report a power-control fault rather
    // than claim the host is off, so nobody mistakes "unknown" for "off".
    state |= POWER_CONTROL_FAULT;
  } else {
    if (status.powerOn) state |= POWER_ON;
    if (status.fault === true) state |= POWER_FAULT;
    deps.state?.notePower(status.powerOn);
  }
  const lastEvent = deps.state?.lastPowerOnByIpmi === true ? LAST_POWER_ON_BY_IPMI : 0;
  const misc = deps.state === undefined ? 0 : IDENTIFY_SUPPORTED | (deps.state.identifyState() << 4);
  return { cc: CompletionCode.Ok, data: Uint8Array.of(state, lastEvent, misc) };
}

export async function chassisControl(deps: ChassisDeps, data: Uint8Array, ctx?: CommandContext): Promise<CommandResult> {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  const action = CHASSIS_CONTROL_ACTIONS[(data[0] ?? 0xff) & 0x0f];
  if (action === undefined || ((data[0] ?? 0) & 0xf0) !== 0) return { cc: CompletionCode.InvalidDataField };
  const starts = action === 'on' || action === 'cycle' || action === 'reset';
  const env = starts ? (deps.boot?.environment() ?? {}) : {};
  let outcome: PowerActionOutcome = 'failed';
  try {
    const result = await deps.backend.control(action, env);
    outcome = result === 'done' ? 'done' : 'unsupported';
  } finally {
    if (ctx !== undefined) deps.onPowerAction?.(action, outcome, ctx);
  }
  if (outcome !== 'done') return { cc: CompletionCode.NotSupportedInPresentState };
  if (starts) {
    deps.boot?.consumeOneTime();
    deps.state?.setRestartCause(RestartCause.ChassisControl, ctx?.channel === 'system' ? 0x0f : 0x01);
    if (deps.state !== undefined) deps.state.lastPowerOnByIpmi = true;
  }
  return { cc: CompletionCode.Ok };
}

export function chassisIdentify(deps: ChassisDeps, data: Uint8Array): CommandResult {
  if (data.length > 2) return { cc: CompletionCode.RequestLengthInvalid };
  if (deps.state === undefined) return { cc: CompletionCode.InvalidCommand };
  const force = ((data[1] ?? 0) & 0x01) !== 0;
  const seconds = data.length >= 1 ? (data[0] ?? 0) : DEFAULT_IDENTIFY_SECONDS;
  deps.state.identify(force ? 'forced' : seconds === 0 ? 'off' : seconds);
  void deps.backend.identify?.(force ? 'forced' : seconds);
  return { cc: CompletionCode.Ok };
}

export function setPowerRestorePolicy(deps: ChassisDeps, data: Uint8Array): CommandResult {
  if (data.length !== 1) return { cc: CompletionCode.RequestLengthInvalid };
  if (deps.state === undefined) return { cc: CompletionCode.InvalidCommand };
  const p = (data[0] ?? 0) & 0x07;
  if (p > 3) return { cc: CompletionCode.InvalidDataField };
  if (p !== 3) deps.state.setRestorePolicy(p as RestorePolicyValue); // 3: "no change", a query
  return { cc: CompletionCode.Ok, data: Uint8Array.of(ALL_RESTORE_POLICIES) };
}

export function getSystemRestartCause(deps: ChassisDeps, data: Uint8Array): CommandResult {
  if (data.length !== 0) return { cc: CompletionCode.RequestLengthInvalid };
  const c = deps.state?.restartCause ?? { cause: RestartCause.Unknown, channel: 0 };
  return { cc: CompletionCode.Ok, data: Uint8Array.of(c.cause & 0x0f, c.channel & 0x0f) };
}

export function setSystemBootOptions(boot: BootOptions, data: Uint8Array): CommandResult {
  if (data.length < 1) return { cc: CompletionCode.RequestLengthInvalid };
  const parameter = (data[0] ?? 0) & 0x7f;
  const r = boot.set(parameter, data.subarray(1));
  if (r === 'unsupported') return { cc: CC_PARAMETER_NOT_SUPPORTED };
  if (r === 'length') return { cc: CompletionCode.RequestLengthInvalid };
  return { cc: CompletionCode.Ok };
}

export function getSystemBootOptions(boot: BootOptions, data: Uint8Array): CommandResult {
  if (data.length !== 3) return { cc: CompletionCode.RequestLengthInvalid };
  const parameter = (data[0] ?? 0) & 0x7f;
  const value = boot.get(parameter);
  if (value === undefined) return { cc: CC_PARAMETER_NOT_SUPPORTED };
  return { cc: CompletionCode.Ok, data: Uint8Array.of(BOOT_PARAMETER_VERSION, parameter, ...value) };
}

export function registerChassisCommands(registry: CommandRegistry, deps: ChassisDeps): void {
  const reg = (name: string, cmd: number, privilege: (typeof Privilege)[keyof typeof Privilege], handler: (ctx: CommandContext, data: Uint8Array) => CommandResult | Promise<CommandResult>): void =>
    registry.register({ name, netfn: NETFN_CHASSIS, cmd, privilege, channel: 'both', handler });
  reg('get-chassis-status', ChassisCmd.GetChassisStatus, Privilege.User, (_ctx, data) => getChassisStatus(deps, data));
  reg('chassis-control', ChassisCmd.ChassisControl, Privilege.Operator, (ctx, data) => chassisControl(deps, data, ctx));
  if (deps.state === undefined) return;
  reg('chassis-identify', ChassisCmd.ChassisIdentify, Privilege.Operator, (_ctx, data) => chassisIdentify(deps, data));
  reg('set-power-restore-policy', ChassisCmd.SetPowerRestorePolicy, Privilege.Operator, (_ctx, data) => setPowerRestorePolicy(deps, data));
  reg('get-system-restart-cause', ChassisCmd.GetSystemRestartCause, Privilege.User, (_ctx, data) => getSystemRestartCause(deps, data));
  const boot = deps.boot;
  if (boot === undefined) return;
  reg('set-system-boot-options', ChassisCmd.SetSystemBootOptions, Privilege.Operator, (_ctx, data) => setSystemBootOptions(boot, data));
  reg('get-system-boot-options', ChassisCmd.GetSystemBootOptions, Privilege.Operator, (_ctx, data) => getSystemBootOptions(boot, data));
}
