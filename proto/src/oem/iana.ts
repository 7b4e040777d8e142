/** The 3-byte IANA enterprise number that leads every OEM/Group request and response, LSB first. */
import { WireError } from '../errors.js';

export function encodeIana(iana: number, out: Uint8Array, offset: number): void {
  if (!Number.isInteger(iana) || iana < 0 || iana > 0xffffff) throw new WireError('ERR_BAD_FIELD', `IANA ${iana} does not fit 3 bytes`);
  out[offset] = iana & 0xff;
  out[offset + 1] = (iana >>> 8) & 0xff;
  out[offset + 2] = (iana >>> 16) & 0xff;
}

export function readIana(buf: Uint8Array, offset: number): number {
  return (buf[offset] ?? 0) | ((buf[offset + 1] ?? 0) << 8) | ((buf[offset + 2] ?? 0) << 16);
}
