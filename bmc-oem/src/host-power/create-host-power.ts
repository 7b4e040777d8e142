/** Builds the configured host-power backend (`none` or `command`). */
import type { HostPowerBackend } from '../commands/host-power-port.js';
import { CommandBackend, type CommandBackendLogger } from './command-backend.js';
import { createNoneBackend } from './none-backend.js';

export interface HostPowerSettings {
  backend: 'none' | 'command';
  controlCommand?: string;
  statusCommand?: string;
  identify?: boolean;
}

export function createHostPowerBackend(settings: HostPowerSettings, logger?: CommandBackendLogger): HostPowerBackend {
  if (settings.backend === 'none') return createNoneBackend();
  if (settings.controlCommand === undefined || settings.controlCommand.trim() === '') {
    throw new RangeError('hostPower.controlCommand is required for the "command" backend');
  }
  return new CommandBackend({
    controlCommand: settings.controlCommand,
    ...(settings.statusCommand === undefined ? {} : { statusCommand: settings.statusCommand }),
    ...(settings.identify === true ? { identify: true } : {}),
    ...(logger ? { logger } : {}),
  });
}
