import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostPowerBackend } from '../../src/commands/host-power-port.js';
import { getSdr, getSdrRepositoryInfo, getSensorReading, getSensorThresholds, SdrRepository } from '../../src/sdr/sdr-commands.js';
import { buildSdrRepository, buildSensors } from '../../src/sdr/sensors.js';
import { tempDir } from '../helpers/temp-dir.js';

const backend = (on: boolean | undefined): HostPowerBackend => ({ kind: 't', status: () => Promise.resolve(on === undefined ? undefined : { powerOn: on }), control: () => Promise.resolve('done') });

/** A directory laid out like /sys/class/thermal with one zone (the kernel's files, as text). */
function thermalDir(milli: number): string {
  const dir = tempDir('bmc-thermal-');
  const z = join(dir, 'thermal_zone0');
  mkdirSync(z);
  writeFileSync(join(z, 'type'), 'cpu-thermal\n');
  writeFileSync(join(z, 'temp'), `${milli}\n`);
  writeFileSync(join(z, 'trip_point_0_type'), 'passive\n');
  writeFileSync(join(z, 'trip_point_0_temp'), '80000\n');
  writeFileSync(join(z, 'trip_point_1_type'), 'critical\n');
  writeFileSync(join(z, 'trip_point_1_temp'), '95000\n');
  return dir;
}

describe('SDR repository and sensors', () => {
  it('lists the BMC locator, Host Power, Host Link, BMC Audit and one temperature per thermal zone', async () => {
    let linkUp = false;
    const sensors = buildSensors({ hostPower: backend(true), hostLinkUp: () => linkUp, thermal: { enabled: true, dir: thermalDir(81500) } });
    const repo = new SdrRepository(buildSdrRepository(sensors, 0x8f), sensors, 1000);
    expect(repo.records.map((r) => [r[0], r[3]])).toEqual([[1, 0x12], [2, 0x02], [3, 0x02], [4, 0x02], [5, 0x01]]);
    for (const r of repo.records) expect(r[4]).toBe(r.length - 5);
    expect(getSdrRepositoryInfo(repo).data?.subarray(0, 3)).toEqual(Uint8Array.of(0x51, 5, 0));
    // Host power on: ACPI S0/G0 (offset 0).
    expect((await getSensorReading(repo, Uint8Array.of(1))).data).toEqual(Uint8Array.of(0, 0x40, 0x01, 0x80));
    expect((await getSensorReading(repo, Uint8Array.of(2))).data?.[2]).toBe(0);
    linkUp = true;
    expect((await getSensorReading(repo, Uint8Array.of(2))).data?.[2]).toBe(1);
    // 81.5 °C: reading 82 (rounded), at/above the upper non-critical (80) but below critical (95).
    expect((await getSensorReading(repo, Uint8Array.of(0x10))).data).toEqual(Uint8Array.of(82, 0x40, 0xc8));
    expect(getSensorThresholds(repo, Uint8Array.of(0x10)).data).toEqual(Uint8Array.of(0x18, 0, 0, 0, 80, 95, 0));
    expect((await getSensorReading(repo, Uint8Array.of(0x33))).cc).toBe(0xcb);
  });

  it('reads a record in pieces (the header first, then the rest under a reservation)', () => {
    const sensors = buildSensors({ hostPower: backend(undefined), hostLinkUp: () => false, thermal: { enabled: false, dir: '/nonexistent' } });
    const repo = new SdrRepository(buildSdrRepository(sensors, 0x8f), sensors, 0);
    const head = getSdr(repo, Uint8Array.of(0, 0, 0, 0, 0, 5));
    expect(head.data?.subarray(0, 2)).toEqual(Uint8Array.of(2, 0)); // next record id
    expect(getSdr(repo, Uint8Array.of(0, 0, 1, 0, 5, 16)).cc).toBe(0xc5);
    const r = repo.reserve();
    const rest = getSdr(repo, Uint8Array.of(r & 0xff, r >> 8, 1, 0, 5, 0xff));
    expect(Buffer.from(rest.data?.subarray(2) ?? []).includes(Buffer.from('bmc-oem'))).toBe(true);
    expect(getSdr(repo, Uint8Array.of(0, 0, 0xff, 0xff, 0, 0xff)).data?.subarray(0, 2)).toEqual(Uint8Array.of(0xff, 0xff));
  });
});
