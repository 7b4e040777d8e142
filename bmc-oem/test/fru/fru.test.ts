import { describe, expect, it } from 'vitest';
import { getFruInventoryAreaInfo, readFruData, writeFruData } from '../../src/fru/fru-commands.js';
import { encodeFruImage } from '../../src/fru/fru-area.js';
import { FRU_SIZE, FruStore } from '../../src/fru/fru-store.js';
import { tempDir } from '../helpers/temp-dir.js';

const sum = (b: Uint8Array) => b.reduce((a, x) => (a + x) & 0xff, 0);

describe('FRU inventory', () => {
  it('builds a header and areas with zero-sum checksums, padding one-character fields', () => {
    const img = encodeFruImage({ chassis: { serialNumber: 'C1' }, board: { manufacturer: 'Acme', productName: 'X' }, product: { name: 'bmc-oem', version: '1' } });
    expect(sum(img.subarray(0, 8))).toBe(0);
    const areas = [img[2], img[3], img[4]].map((o) => (o ?? 0) * 8);
    for (const off of areas) {
      const len = (img[off + 1] ?? 0) * 8;
      expect(sum(img.subarray(off, off + len))).toBe(0);
    }
    const board = Buffer.from(img.subarray(areas[1] ?? 0));
    expect(board.includes(Buffer.from([0xc4, ...Buffer.from('Acme')]))).toBe(true);
    expect(board.includes(Buffer.from([0xc2, 0x58, 0x20]))).toBe(true); // "X " not 0xC1
  });

  it('reads in pieces, refuses other devices, and keeps a written image across restarts', () => {
    const dir = tempDir('bmc-fru-');
    const fru = new FruStore({ fru: {}, stateDir: dir });
    expect(getFruInventoryAreaInfo(fru, Uint8Array.of(0))).toEqual({ cc: 0, data: Uint8Array.of(FRU_SIZE & 0xff, FRU_SIZE >> 8, 0) });
    expect(getFruInventoryAreaInfo(fru, Uint8Array.of(1)).cc).toBe(0xcb);
    const head = readFruData(fru, Uint8Array.of(0, 0, 0, 8));
    expect(head.data?.[0]).toBe(8);
    expect(sum(head.data?.subarray(1) ?? new Uint8Array())).toBe(0);
    expect(readFruData(fru, Uint8Array.of(0, 0xff, 0x01, 200)).data?.[0]).toBe(1); // clipped at the end of the device
    expect(writeFruData(fru, Uint8Array.of(0, 0x00, 0x01, 0xde, 0xad))).toEqual({ cc: 0, data: Uint8Array.of(2) });
    expect(readFruData(new FruStore({ fru: {}, stateDir: dir }), Uint8Array.of(0, 0x00, 0x01, 2)).data).toEqual(Uint8Array.of(2, 0xde, 0xad));
  });
});
