/**
 * The power restore policy, applied once per boot of the machine bmc-oem
 * runs on (the board lost power together with the host, or was restarted):
 * the boot id of the kernel (/proc/sys/kernel/random/boot_id) is kept in
 * chassis.json, and only a start under a new boot id applies the policy. A
 * restart of the daemon alone, a cold reset, or the very first start (no
 * boot id kept yet) never switches the host on.
 */
import { readFileSync } from 'node:fs';
import type { BootOptions } from '../chassis/boot-options.js';
import { RestartCause, RestorePolicy, type ChassisState } from '../chassis/chassis-state.js';
import type { HostPowerBackend } from '../commands/host-power-port.js';

export function readBootId(path = '/proc/sys/kernel/random/boot_id'): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export type RestoreOutcome = 'first-start' | 'same-boot' | 'no-boot-id' | 'policy-off' | 'host-on' | 'unknown-power' | 'powered-on' | 'failed';

export async function applyRestorePolicy(o: { chassis: ChassisState; boot: BootOptions; backend: HostPowerBackend; bootId: string | undefined }): Promise<RestoreOutcome> {
  if (o.bootId === undefined) return 'no-boot-id';
  const previous = o.chassis.bootId;
  o.chassis.setBootId(o.bootId);
  if (previous === '') return 'first-start';
  if (previous === o.bootId) return 'same-boot';
  const policy = o.chassis.restorePolicy;
  const wanted = policy === RestorePolicy.AlwaysOn || (policy === RestorePolicy.Previous && o.chassis.lastPower === 'on');
  if (!wanted) return 'policy-off';
  const status = await o.backend.status().catch(() => undefined);
  if (status === undefined) return 'unknown-power';
  if (status.powerOn) return 'host-on';
  try {
    const r = await o.backend.control('on', o.boot.environment());
    if (r !== 'done') return 'failed';
  } catch {
    return 'failed';
  }
  o.boot.consumeOneTime();
  o.chassis.setRestartCause(policy === RestorePolicy.AlwaysOn ? RestartCause.AlwaysOnRestore : RestartCause.PreviousStateRestore, 0);
  return 'powered-on';
}
