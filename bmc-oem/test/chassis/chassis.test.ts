import { describe, expect, it } from 'vitest';
import { BootOptions } from '../../src/chassis/boot-options.js';
import { ChassisState, RestartCause, RestorePolicy } from '../../src/chassis/chassis-state.js';
import { chassisIdentify, getChassisStatus, getSystemBootOptions, getSystemRestartCause, setPowerRestorePolicy, setSystemBootOptions } from '../../src/commands/chassis-commands.js';
import type { HostPowerBackend } from '../../src/commands/host-power-port.js';
import { applyRestorePolicy } from '../../src/daemon/restore-policy.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A host whose power the test reads back (the real backends are tested with programs elsewhere). */
function host(on = false) {
  const calls: string[] = [];
  const backend: HostPowerBackend = {
    kind: 'test',
    status: () => Promise.resolve({ powerOn: on }),
    control: (action, env) => {
      calls.push(`${action}${env?.BMC_BOOT_DEVICE ? ` ${env.BMC_BOOT_DEVICE}` : ''}`);
      on = action === 'on' || action === 'cycle' || action === 'reset';
      return Promise.resolve('done');
    },
  };
  return { backend, calls };
}

describe('chassis state and boot options', () => {
  it('boot options: parameters 0-6 round-trip, 7+ are "not supported", a persistent flag survives a start', () => {
    const boot = new BootOptions({});
    expect(setSystemBootOptions(boot, Uint8Array.of(5, 0xc0, 0x08, 0, 0, 0)).cc).toBe(0); // persistent, disk
    expect(getSystemBootOptions(boot, Uint8Array.of(5, 0, 0))).toEqual({ cc: 0, data: Uint8Array.of(1, 5, 0xc0, 0x08, 0, 0, 0) });
    expect(setSystemBootOptions(boot, Uint8Array.of(7, 1)).cc).toBe(0x80);
    expect(setSystemBootOptions(boot, Uint8Array.of(5, 0x80)).cc).toBe(0xc7);
    expect(boot.environment()).toEqual({ BMC_BOOT_DEVICE: 'disk', BMC_BOOT_PERSISTENT: '1', BMC_BOOT_EFI: '0' });
    boot.consumeOneTime();
    expect(boot.selection()?.device).toBe('disk');
  });

  it('identify, restore policy and restart cause show in Get Chassis Status and their own commands; policy persists', async () => {
    let t = 0;
    const dir = tempDir('bmc-chassis-');
    const state = new ChassisState({ stateDir: dir, now: () => t });
    const { backend } = host(false);
    expect(chassisIdentify({ backend, state }, Uint8Array.of(10)).cc).toBe(0);
    expect(setPowerRestorePolicy({ backend, state }, Uint8Array.of(2))).toEqual({ cc: 0, data: Uint8Array.of(7) });
    expect(setPowerRestorePolicy({ backend, state }, Uint8Array.of(3)).cc).toBe(0); // query only
    const status = await getChassisStatus({ backend, state }, new Uint8Array());
    expect(status.data).toEqual(Uint8Array.of(RestorePolicy.AlwaysOn << 5, 0, 0x40 | 0x10));
    t += 10_000;
    expect((await getChassisStatus({ backend, state }, new Uint8Array())).data?.[2]).toBe(0x40);
    expect(chassisIdentify({ backend, state }, Uint8Array.of(0, 1)).cc).toBe(0);
    expect((await getChassisStatus({ backend, state }, new Uint8Array())).data?.[2]).toBe(0x60); // indefinitely on
    state.setRestartCause(RestartCause.ChassisControl, 1);
    expect(getSystemRestartCause({ backend, state }, new Uint8Array())).toEqual({ cc: 0, data: Uint8Array.of(1, 1) });
    expect(new ChassisState({ stateDir: dir, now: () => t }).restorePolicy).toBe(RestorePolicy.AlwaysOn);
  });

  it('the restore policy acts only on a start under a new machine boot id, never on the first start or a daemon restart', async () => {
    const dir = tempDir('bmc-restore-');
    const boot = new BootOptions({ stateDir: dir });
    const state = () => new ChassisState({ stateDir: dir, now: () => 0 });
    const s = state();
    s.setRestorePolicy(RestorePolicy.AlwaysOn);
    const h = host(false);
    expect(await applyRestorePolicy({ chassis: s, boot, backend: h.backend, bootId: 'boot-a' })).toBe('first-start');
    expect(await applyRestorePolicy({ chassis: state(), boot, backend: h.backend, bootId: 'boot-a' })).toBe('same-boot');
    boot.set(5, Uint8Array.of(0x80, 0x04, 0, 0, 0)); // one-time PXE
    expect(await applyRestorePolicy({ chassis: state(), boot, backend: h.backend, bootId: 'boot-b' })).toBe('powered-on');
    expect(h.calls).toEqual(['on pxe']);
    expect(state().restartCause.cause).toBe(RestartCause.AlwaysOnRestore);
    expect(boot.selection()).toBeUndefined();
    // "previous": on again only if the host was on when last seen.
    const p = state();
    p.setRestorePolicy(RestorePolicy.Previous);
    p.notePower(false);
    expect(await applyRestorePolicy({ chassis: p, boot, backend: host(false).backend, bootId: 'boot-c' })).toBe('policy-off');
  });
});
