import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDeviceId } from '@backchannel/proto';
import { encodeDeviceId } from '../../src/commands/device-commands.js';
import { guidFromUuid, uuidFromGuid } from '../../src/commands/device-identity.js';
import { getChannelAuthCapabilities, getChannelCipherSuites, setSessionPrivilegeLevel, closeSession } from '../../src/commands/session-commands.js';
import { chassisControl, getChassisStatus } from '../../src/commands/chassis-commands.js';
import { createHostPowerBackend } from '../../src/host-power/create-host-power.js';
import type { CommandBackend } from '../../src/host-power/command-backend.js';
import type { SessionControl } from '../../src/commands/command-types.js';
import { Privilege, type PrivilegeLevel } from '../../src/commands/privilege.js';

describe('Get Device ID', () => {
  it('encodes what the proto decoder (and ipmitool mc info) reads back', () => {
    const bytes = encodeDeviceId({ deviceId: 0x20, deviceRevision: 1, firmwareMajor: 2, firmwareMinor: 15, manufacturerId: 32473, productId: 0x1234, guid: new Uint8Array(16) });
    expect([...bytes]).toEqual([0x20, 0x01, 0x02, 0x15, 0x02, 0x80, 0xd9, 0x7e, 0x00, 0x34, 0x12]);
    expect(decodeDeviceId(bytes)).toMatchObject({ deviceId: 0x20, manufacturerId: 32473, productId: 0x1234 });
  });
});

describe('GUID byte order', () => {
  it('stores a UUID least-significant byte first (IPMI §20.8) and reads it back', () => {
    const uuid = '01234567-89ab-cdef-0123-456789abcdef';
    expect(Buffer.from(guidFromUuid(uuid)).toString('hex')).toBe('efcdab8967452301efcdab8967452301');
    expect(uuidFromGuid(guidFromUuid(uuid))).toBe(uuid);
  });
});

describe('Get Channel Authentication Capabilities', () => {
  it('offers RMCP+ only when v2.0 data is asked for', () => {
    expect(getChannelAuthCapabilities(1, Uint8Array.of(0x8e, 0x04))).toEqual({ cc: 0, data: Uint8Array.of(1, 0x80, 0x04, 0x02, 0, 0, 0, 0) });
    expect(getChannelAuthCapabilities(1, Uint8Array.of(0x0e, 0x04))).toEqual({ cc: 0, data: Uint8Array.of(1, 0x00, 0x04, 0x00, 0, 0, 0, 0) });
    expect(getChannelAuthCapabilities(1, Uint8Array.of(0x81, 0x02)).cc).toBe(0);
    expect(getChannelAuthCapabilities(1, Uint8Array.of(0x82, 0x02)).cc).toBe(0xcc);
    expect(getChannelAuthCapabilities(1, Uint8Array.of(0x8e, 0x09)).cc).toBe(0xcc);
    expect(getChannelAuthCapabilities(1, Uint8Array.of(0x8e)).cc).toBe(0xc7);
  });
});

describe('Get Channel Cipher Suites', () => {
  const records = Uint8Array.from({ length: 20 }, (_, i) => 0xc0 | (i & 1)); // 20 bytes: two slices
  const deps = { lanChannel: 1, cipherSuiteRecords: records, supportedAlgorithms: Uint8Array.of(0x03, 0x44, 0x81) };
  it('returns 16 bytes per list index, then the rest, then nothing', () => {
    expect(getChannelCipherSuites(deps, Uint8Array.of(0x0e, 0, 0x80)).data).toEqual(Uint8Array.of(1, ...records.subarray(0, 16)));
    expect(getChannelCipherSuites(deps, Uint8Array.of(0x0e, 0, 0x81)).data).toEqual(Uint8Array.of(1, ...records.subarray(16)));
    expect(getChannelCipherSuites(deps, Uint8Array.of(0x0e, 0, 0x82)).data).toEqual(Uint8Array.of(1));
    expect(getChannelCipherSuites(deps, Uint8Array.of(0x0e, 0, 0x00)).data).toEqual(Uint8Array.of(1, 0x03, 0x44, 0x81));
    expect(getChannelCipherSuites(deps, Uint8Array.of(0x0e, 2, 0x80)).cc).toBe(0xcc);
    expect(getChannelCipherSuites(deps, Uint8Array.of(0x05, 0, 0x80)).cc).toBe(0xcc);
  });
});

describe('Set Session Privilege Level and Close Session', () => {
  function control(max: PrivilegeLevel) {
    const state = { privilege: Privilege.User as PrivilegeLevel, closing: false };
    const s: SessionControl = { id: 0x11223344, handle: 1, userId: 2, userName: 'u', maxPrivilege: max, setPrivilege: (l) => (state.privilege = l), closeAfterResponse: () => (state.closing = true) };
    return { s, state };
  }
  it('raises up to the negotiated maximum, never above, and reports with 0', () => {
    const { s, state } = control(Privilege.Operator);
    expect(setSessionPrivilegeLevel(s, state.privilege, Uint8Array.of(0))).toEqual({ cc: 0, data: Uint8Array.of(2) });
    expect(setSessionPrivilegeLevel(s, state.privilege, Uint8Array.of(4)).cc).toBe(0x81);
    expect(setSessionPrivilegeLevel(s, state.privilege, Uint8Array.of(1)).cc).toBe(0x80);
    expect(setSessionPrivilegeLevel(s, state.privilege, Uint8Array.of(3))).toEqual({ cc: 0, data: Uint8Array.of(3) });
    expect(state.privilege).toBe(3);
    expect(setSessionPrivilegeLevel(undefined, 1, Uint8Array.of(3)).cc).toBe(0xd4);
  });
  it('closes its own session after the response; others only as administrator', () => {
    const { s, state } = control(Privilege.Administrator);
    const closed: number[] = [];
    const deps = { closeSession: (id: number) => (closed.push(id), id === 5 ? ('closed' as const) : ('not-found' as const)) };
    expect(closeSession(deps, s, Privilege.User, Uint8Array.of(0x44, 0x33, 0x22, 0x11))).toEqual({ cc: 0 });
    expect(state.closing).toBe(true);
    expect(closeSession(deps, s, Privilege.Operator, Uint8Array.of(5, 0, 0, 0)).cc).toBe(0xd4);
    expect(closeSession(deps, s, Privilege.Administrator, Uint8Array.of(5, 0, 0, 0)).cc).toBe(0);
    expect(closeSession(deps, s, Privilege.Administrator, Uint8Array.of(6, 0, 0, 0)).cc).toBe(0x87);
    expect(closeSession(deps, s, Privilege.Administrator, Uint8Array.of(0, 0, 0, 0, 1)).cc).toBe(0x88);
    expect(closed).toEqual([5, 6]);
  });
});

describe('chassis commands (with the real `command` host-power backend)', () => {
  it('reports power from the status program and maps Chassis Control actions 0..5 to the control program', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmc-oem-power-'));
    const state = join(dir, 'state');
    const log = join(dir, 'log');
    writeFileSync(state, 'off\n');
    const control = join(dir, 'power');
    // A stand-in for a GPIO script: remembers the state and the actions it was asked for.
    writeFileSync(control, `#!/bin/sh\necho "$1" >> ${log}\ncase "$1" in on|cycle|reset) echo on > ${state};; off|soft) echo off > ${state};; esac\n`, { mode: 0o755 });
    const backend = createHostPowerBackend({ backend: 'command', controlCommand: control, statusCommand: `cat ${state}` }) as CommandBackend;
    const b = { backend };
    try {
      expect(await getChassisStatus(b, new Uint8Array(0))).toEqual({ cc: 0, data: Uint8Array.of(0x60, 0, 0) });
      expect(await chassisControl(b, Uint8Array.of(1))).toEqual({ cc: 0 });
      await backend.idle();
      expect(await getChassisStatus(b, new Uint8Array(0))).toEqual({ cc: 0, data: Uint8Array.of(0x61, 0, 0) });
      // 4 is the diagnostic interrupt (`chassis power diag`): it reaches the program too.
      for (const code of [0, 2, 3, 4, 5]) {
        expect((await chassisControl(b, Uint8Array.of(code))).cc).toBe(0);
        await backend.idle();
      }
      expect((await chassisControl(b, Uint8Array.of(6))).cc).toBe(0xcc);
      expect((await chassisControl(b, Uint8Array.of())).cc).toBe(0xc7);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['on', 'off', 'cycle', 'reset', 'diag', 'soft']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with the `none` backend: power unknown (control fault bit), every action 0xD5', async () => {
    const b = { backend: createHostPowerBackend({ backend: 'none' }) };
    expect(await getChassisStatus(b, new Uint8Array(0))).toEqual({ cc: 0, data: Uint8Array.of(0x70, 0, 0) });
    expect((await chassisControl(b, Uint8Array.of(1))).cc).toBe(0xd5);
  });
});
