/**
 * `none`: this BMC cannot switch or sense host power. Get Chassis Status
 * reports "unknown" (the chassis commands turn that into a power-control
 * fault bit) and every Chassis Control action is unsupported, which the
 * chassis handler answers with cc 0xD5 (cannot execute in present state).
 */
import type { HostPowerBackend } from '../commands/host-power-port.js';

export function createNoneBackend(): HostPowerBackend {
  return {
    kind: 'none',
    status: () => Promise.resolve(undefined),
    control: () => Promise.resolve('unsupported'),
  };
}
