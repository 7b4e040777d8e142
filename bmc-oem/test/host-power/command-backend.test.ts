import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootOptions } from '../../src/chassis/boot-options.js';
import { chassisControl, getChassisStatus } from '../../src/commands/chassis-commands.js';
import { CommandBackend, parsePowerState } from '../../src/host-power/command-backend.js';
import { createHostPowerBackend } from '../../src/host-power/create-host-power.js';
import { createNoneBackend } from '../../src/host-power/none-backend.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A GPIO-board stand-in: the control script records the action and flips a state file the status script prints. */
function rig() {
  const dir = tempDir('bmc-power-');
  const state = join(dir, 'state');
  const log = join(dir, 'actions');
  writeFileSync(state, 'off\n');
  const control = join(dir, 'power-control');
  writeFileSync(
    control,
    `#!/bin/sh
echo "$1" >> ${log}
case "$1" in
  on|cycle|reset) echo on > ${state} ;;
  off|soft) echo off > ${state} ;;
  fail) echo "gpio busy" >&2; exit 3 ;;
esac
`,
  );
  const status = join(dir, 'power-status');
  writeFileSync(status, `#!/bin/sh\ncat ${state}\n`);
  const slow = join(dir, 'slow');
  writeFileSync(slow, `#!/bin/sh\nsleep 5\n`);
  const failing = join(dir, 'failing');
  writeFileSync(failing, `#!/bin/sh\necho "no such gpio line 12" >&2\nexit 2\n`);
  // Records the action with the boot settings it was given in the environment.
  const envLog = join(dir, 'env-actions');
  const envControl = join(dir, 'env-control');
  writeFileSync(envControl, `#!/bin/sh\necho "$1 \${BMC_BOOT_DEVICE:--} \${BMC_BOOT_PERSISTENT:--} \${BMC_BOOT_EFI:--}" >> ${envLog}\n`);
  for (const f of [control, status, slow, failing, envControl]) chmodSync(f, 0o755);
  return { dir, control, status, slow, failing, envControl, envLog, actions: () => readFileSync(log, 'utf8').trim().split('\n') };
}

describe('host power: command backend', () => {
  it('runs the control program with on|off|cycle|reset|diag|soft and reads state from the status program', async () => {
    const r = rig();
    const b = new CommandBackend({ controlCommand: r.control, statusCommand: r.status });
    expect(await b.status()).toEqual({ powerOn: false });
    for (const action of ['on', 'off', 'cycle', 'reset', 'diag', 'soft'] as const) expect(await b.control(action)).toBe('done');
    expect(r.actions()).toEqual(['on', 'off', 'cycle', 'reset', 'diag', 'soft']);
    expect(await b.status()).toEqual({ powerOn: false });
    const limited = new CommandBackend({ controlCommand: r.control, statusCommand: r.status, actions: ['on', 'off'] });
    expect(await limited.control('diag')).toBe('unsupported');
  });

  it('answers Get Chassis Status and Chassis Control through the chassis commands', async () => {
    const r = rig();
    const b = { backend: createHostPowerBackend({ backend: 'command', controlCommand: r.control, statusCommand: r.status }) };
    expect(await chassisControl(b, Uint8Array.of(0x01))).toEqual({ cc: 0 }); // power up
    const s = await getChassisStatus(b, new Uint8Array());
    expect(s.cc).toBe(0);
    expect((s.data?.[0] ?? 0) & 0x01).toBe(1);
    expect(await chassisControl(b, Uint8Array.of(0x04))).toEqual({ cc: 0 }); // diag: `chassis power diag` reaches the program
    expect(r.actions()).toEqual(['on', 'diag']);
  });

  it('passes the boot device to the program and clears a one-time setting after the start', async () => {
    const r = rig();
    const boot = new BootOptions({});
    expect(boot.set(5, Uint8Array.of(0x80, 0x04, 0, 0, 0))).toBe('ok'); // one-time PXE, as `chassis bootdev pxe`
    const b = { backend: createHostPowerBackend({ backend: 'command', controlCommand: r.envControl, statusCommand: r.status }), boot };
    expect(await chassisControl(b, Uint8Array.of(0x01))).toEqual({ cc: 0 });
    expect(await chassisControl(b, Uint8Array.of(0x03))).toEqual({ cc: 0 });
    expect(readFileSync(r.envLog, 'utf8').trim().split('\n')).toEqual(['on pxe 0 0', 'reset - - -']);
    expect(boot.selection()).toBeUndefined();
  });

  it('reports a failing program with its exit status and stderr', async () => {
    const r = rig();
    const b = new CommandBackend({ controlCommand: r.failing, statusCommand: r.failing });
    await expect(b.control('on')).rejects.toThrow(/exited with status 2: no such gpio line 12/);
    await expect(b.status()).rejects.toThrow(/exited with status 2/);
    const missing = new CommandBackend({ controlCommand: join(r.dir, 'nope'), statusCommand: `${join(r.dir, 'nope')} --x` });
    await expect(missing.control('off')).rejects.toMatchObject({ code: 'not-found' });
    await expect(missing.status()).rejects.toThrow(/cannot run/);
  });

  it('kills a status program that hangs, and answers a slow control as started, refusing overlap', async () => {
    const r = rig();
    const b = new CommandBackend({ controlCommand: r.slow, statusCommand: r.slow, statusTimeoutMs: 200, controlTimeoutMs: 400, ackWaitMs: 100 });
    const t0 = Date.now();
    await expect(b.status()).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await b.control('off')).toBe('done');
    await expect(b.control('on')).rejects.toMatchObject({ code: 'busy' });
    await b.idle(); // the slow one is killed at 400 ms and logged
    await expect(b.control('on')).resolves.toBe('done');
    await b.idle();
  });

  it('parses the usual state words, ipmi_sim style included', () => {
    expect(parsePowerState('on\n')).toBe(true);
    expect(parsePowerState('power:1')).toBe(true);
    expect(parsePowerState('0')).toBe(false);
    expect(() => parsePowerState('maybe')).toThrow(/expected on or off/);
  });
});

describe('host power: none backend', () => {
  it('reports unknown state (power-control fault bit) and answers every action with 0xD5', async () => {
    const b = { backend: createNoneBackend() };
    const s = await getChassisStatus(b, new Uint8Array());
    expect(s.cc).toBe(0);
    expect((s.data?.[0] ?? 0) & 0x11).toBe(0x10);
    for (const byte of [0, 1, 2, 3, 5]) expect(await chassisControl(b, Uint8Array.of(byte))).toEqual({ cc: 0xd5 });
  });

  it('the command backend needs a control command', () => {
    expect(() => createHostPowerBackend({ backend: 'command' })).toThrow(/controlCommand/);
  });
});
