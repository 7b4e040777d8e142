import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addSelEntry, clearSel, deleteSelEntry, getSelEntry, getSelInfo } from '../../src/sel/sel-commands.js';
import { SEL_FILE, SelStore } from '../../src/sel/sel-store.js';
import { BmcEventCode, encodeBmcEvent } from '../../src/sel/bmc-events.js';
import { tempDir } from '../helpers/temp-dir.js';

const T0 = 1_800_000_000_000; // ms
const record = (fill: number, type = 0x02): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => (i === 2 ? type : fill));
const u16 = (n: number): number[] => [n & 0xff, n >>> 8];

describe('SEL store and commands', () => {
  it('assigns record ids and writes the timestamp of timestamped records; walks first/next/last', () => {
    let t = T0;
    const sel = new SelStore({ capacity: 8, now: () => t });
    expect(addSelEntry(sel, record(0xaa))).toEqual({ cc: 0, data: Uint8Array.of(1, 0) });
    t += 5000;
    expect(addSelEntry(sel, record(0xbb, 0xe0))).toEqual({ cc: 0, data: Uint8Array.of(2, 0) });
    const first = getSelEntry(sel, Uint8Array.of(0, 0, 0, 0, 0, 0xff));
    expect([...(first.data ?? [])].slice(0, 9)).toEqual([2, 0, 1, 0, 0x02, ...u16((T0 / 1000) & 0xffff), ...u16((T0 / 1000) >>> 16)]);
    const second = getSelEntry(sel, Uint8Array.of(0, 0, 2, 0, 0, 0xff));
    // No timestamp in a non-timestamped OEM record (type E0h): its bytes stay as given.
    expect([...(second.data ?? [])]).toEqual([0xff, 0xff, 2, 0, 0xe0, ...Array<number>(13).fill(0xbb)]);
    expect(getSelEntry(sel, Uint8Array.of(0, 0, 0xff, 0xff, 0, 0xff)).data?.[2]).toBe(2);
    expect(getSelEntry(sel, Uint8Array.of(0, 0, 9, 0, 0, 0xff)).cc).toBe(0xcb);
    // A partial read needs the current reservation.
    expect(getSelEntry(sel, Uint8Array.of(0, 0, 1, 0, 5, 4)).cc).toBe(0xc5);
    const r = sel.reserve();
    expect(getSelEntry(sel, Uint8Array.of(...u16(r), 1, 0, 5, 4)).data?.length).toBe(6);
  });

  it('delete and clear need the reservation; clear records the erase time and cancels the reservation', () => {
    let t = T0;
    const sel = new SelStore({ capacity: 8, now: () => t });
    sel.add(record(1), false);
    sel.add(record(2), false);
    expect(deleteSelEntry(sel, Uint8Array.of(0, 0, 1, 0)).cc).toBe(0xc5);
    const r = sel.reserve();
    expect(deleteSelEntry(sel, Uint8Array.of(...u16(r), 1, 0))).toEqual({ cc: 0, data: Uint8Array.of(1, 0) });
    expect(clearSel(sel, Uint8Array.of(...u16(r), 0x43, 0x4c, 0x52, 0xaa)).cc).toBe(0xc5); // cancelled by the delete
    const r2 = sel.reserve();
    expect(clearSel(sel, Uint8Array.of(...u16(r2), 0x43, 0x4c, 0x51, 0xaa)).cc).toBe(0xcc); // not "CLR"
    t += 60_000;
    expect(clearSel(sel, Uint8Array.of(...u16(r2), 0x43, 0x4c, 0x52, 0xaa))).toEqual({ cc: 0, data: Uint8Array.of(1) });
    const info = getSelInfo(sel).data ?? new Uint8Array();
    expect([...info.subarray(0, 3)]).toEqual([0x51, 0, 0]);
    expect(Buffer.from(info).readUInt32LE(9)).toBe(T0 / 1000 + 60);
  });

  it('when full, a client record is refused (C4h, overflow flag) but the BMC\'s own record pushes out the oldest', () => {
    const sel = new SelStore({ capacity: 2, now: () => T0 });
    sel.add(record(1), false);
    sel.add(record(2), false);
    expect(addSelEntry(sel, record(3)).cc).toBe(0xc4);
    expect(sel.overflow).toBe(true);
    expect((getSelInfo(sel).data?.[13] ?? 0) & 0x80).toBe(0x80);
    sel.add(encodeBmcEvent(BmcEventCode.HostLinkTakeover, 7), true);
    expect(sel.entries.map((e) => e.id)).toEqual([2, 3]);
    expect(sel.entries[1]?.bytes.subarray(10)).toEqual(Uint8Array.of(0xc0, 0x03, 0x70, 0xa4, 7, 0));
  });

  it('persists in sel.json (0600) with its clock offset', () => {
    const dir = tempDir('bmc-sel-');
    const a = new SelStore({ capacity: 8, stateDir: dir, now: () => T0 });
    a.add(record(9), false);
    a.setTime(T0 / 1000 + 3600);
    expect(statSync(join(dir, SEL_FILE)).mode & 0o777).toBe(0o600);
    const b = new SelStore({ capacity: 8, stateDir: dir, now: () => T0 });
    expect(b.entries.map((e) => e.id)).toEqual([1]);
    expect(b.time()).toBe(T0 / 1000 + 3600);
    expect(b.add(record(9), false)).toBe(2);
  });
});
