/**
 * The FRU inventory image (IPMI Platform Management FRU Information
 * Storage Definition v1.0): a common header, then the chassis, board and
 * product info areas, each of 8-byte multiples ending in a zero-sum
 * checksum. Text fields are 8-bit ASCII type/length bytes (0xC0 | length);
 * 0xC1 marks the end of an area's fields, so a one-character value is
 * padded to two.
 */
import type { FruConfig } from '../config/config-types.js';

const FORMAT_VERSION = 0x01;
const END_OF_FIELDS = 0xc1;
const ASCII_TYPE = 0xc0;

function checksum(bytes: number[]): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

function textField(value: string | undefined): number[] {
  let v = value ?? '';
  if (v.length === 1) v = `${v} `; // a length of 1 would read as the end marker 0xC1
  const bytes = [...Buffer.from(v, 'latin1').subarray(0, 63)];
  return [ASCII_TYPE | bytes.length, ...bytes];
}

/** Wraps fields into an area: version, length in 8-byte units, fields, end marker, padding, checksum. */
function area(head: number[], fields: number[]): number[] {
  const body = [FORMAT_VERSION, 0, ...head, ...fields, END_OF_FIELDS];
  while ((body.length + 1) % 8 !== 0) body.push(0);
  body[1] = (body.length + 1) / 8;
  return [...body, checksum(body)];
}

export const DEFAULT_FRU: FruConfig = {
  board: { manufacturer: 'Backchannel', productName: 'bmc-oem' },
  product: { manufacturer: 'Backchannel', name: 'bmc-oem' },
};

/** The FRU image for `fru` (the default when nothing is configured). */
export function encodeFruImage(fru: FruConfig): Uint8Array {
  const f = fru.board === undefined && fru.product === undefined && fru.chassis === undefined ? DEFAULT_FRU : fru;
  const areas: { kind: 'chassis' | 'board' | 'product'; bytes: number[] }[] = [];
  if (f.chassis !== undefined) {
    areas.push({ kind: 'chassis', bytes: area([f.chassis.type ?? 0x17 /* rack mount chassis */], [...textField(f.chassis.partNumber), ...textField(f.chassis.serialNumber)]) });
  }
  if (f.board !== undefined) {
    const b = f.board;
    // Language 0 (English); manufacturing date 0 = unspecified.
    areas.push({ kind: 'board', bytes: area([0, 0, 0, 0], [...textField(b.manufacturer), ...textField(b.productName), ...textField(b.serialNumber), ...textField(b.partNumber), ...textField('')]) });
  }
  if (f.product !== undefined) {
    const p = f.product;
    areas.push({
      kind: 'product',
      bytes: area([0], [...textField(p.manufacturer), ...textField(p.name), ...textField(p.partNumber), ...textField(p.version), ...textField(p.serialNumber), ...textField(p.assetTag), ...textField('')]),
    });
  }
  const header = [FORMAT_VERSION, 0, 0, 0, 0, 0, 0];
  let offset = 8;
  for (const a of areas) {
    header[a.kind === 'chassis' ? 2 : a.kind === 'board' ? 3 : 4] = offset / 8;
    offset += a.bytes.length;
  }
  return Uint8Array.from([...header, checksum(header), ...areas.flatMap((a) => a.bytes)]);
}
