/**
 * What the chassis commands need from a host-power backend. The backends
 * themselves (`none`, `command`) live in `src/host-power/`; this is the port
 * they plug into, kept here so the command layer depends on an interface and
 * not on process spawning.
 */

/** Chassis Control actions (IPMI v2.0 §28.3, request byte 1 values 0..5). */
export const CHASSIS_CONTROL_ACTIONS = ['off', 'on', 'cycle', 'reset', 'diag', 'soft'] as const;
export type ChassisControlAction = (typeof CHASSIS_CONTROL_ACTIONS)[number];

export interface HostPowerStatus {
  /** True when the host is powered on. */
  powerOn: boolean;
  /** A power fault or power-control fault was detected. */
  fault?: boolean;
}

export type HostPowerControlResult =
  /** The action was carried out (or started). */
  | 'done'
  /** This backend cannot do the action: answered with cc 0xD5. */
  | 'unsupported';

export interface HostPowerBackend {
  /** Short name for logs and `--help` (`none`, `command`). */
  readonly kind: string;
  /** Current power state, or undefined when the backend cannot tell. */
  status(): Promise<HostPowerStatus | undefined>;
  /**
   * Carries out a Chassis Control action. `env` holds what the program
   * should know besides the action (the boot device: BMC_BOOT_DEVICE ...).
   */
  control(action: ChassisControlAction, env?: Readonly<Record<string, string>>): Promise<HostPowerControlResult>;
  /** Chassis Identify, for a backend that can light something: seconds, 'forced' (until turned off), or 0 (off). */
  identify?(how: number | 'forced'): Promise<void>;
}
