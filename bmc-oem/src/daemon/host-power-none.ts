/**
 * The `none` host-power behaviour the daemon falls back to when no backend
 * module is configured: power state unknown, every Chassis Control action
 * unsupported (cc 0xD5).
 */
import type { HostPowerBackend } from '../commands/host-power-port.js';

export const NO_HOST_POWER: HostPowerBackend = Object.freeze({
  kind: 'none',
  status: () => Promise.resolve(undefined),
  control: () => Promise.resolve('unsupported' as const),
});
