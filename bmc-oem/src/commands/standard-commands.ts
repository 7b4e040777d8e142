/** Registers every standard command PROTOCOL.md §3 asks bmc-oem to answer. */
import type { CommandRegistry } from './registry.js';
import type { DeviceIdentity } from './device-identity.js';
import type { HostPowerBackend } from './host-power-port.js';
import { registerDeviceCommands } from './device-commands.js';
import { registerSessionCommands, type SessionCommandDeps } from './session-commands.js';
import { registerChassisCommands } from './chassis-commands.js';

export interface StandardCommandDeps extends SessionCommandDeps {
  identity: DeviceIdentity;
  hostPower: HostPowerBackend;
}

export function registerStandardCommands(registry: CommandRegistry, deps: StandardCommandDeps): void {
  registerDeviceCommands(registry, deps.identity);
  registerSessionCommands(registry, deps);
  registerChassisCommands(registry, deps.hostPower);
}
