/** Registers the standard commands every setup has: device, session, chassis (PROTOCOL.md §3). */
import type { CommandRegistry } from './registry.js';
import type { DeviceIdentity } from './device-identity.js';
import type { HostPowerBackend } from './host-power-port.js';
import { registerDeviceCommands } from './device-commands.js';
import { registerSessionCommands, type SessionCommandDeps } from './session-commands.js';
import { registerChassisCommands, type ChassisDeps } from './chassis-commands.js';

export interface StandardCommandDeps extends SessionCommandDeps {
  identity: DeviceIdentity;
  hostPower: HostPowerBackend;
  /** Chassis state (policy, restart cause, identify, boot options); without it only status and control. */
  chassis?: Omit<ChassisDeps, 'backend'>;
  /** Get Device ID's "additional device support" byte (default: chassis device only). */
  deviceSupport?: number;
}

export function registerStandardCommands(registry: CommandRegistry, deps: StandardCommandDeps): void {
  registerDeviceCommands(registry, deps.identity, deps.deviceSupport);
  registerSessionCommands(registry, deps);
  registerChassisCommands(registry, { ...deps.chassis, backend: deps.hostPower });
}
