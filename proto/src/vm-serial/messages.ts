/**
 * IPMI messages in the VM protocol (PROTOCOL.md §4), unescaped:
 *
 *   request:  seq  netfn<<2|lun  cmd  data...      checksum
 *   response: seq  netfn<<2|lun  cmd  cc  data...  checksum
 *
 * The checksum makes every byte, seq included, sum to 0 mod 256. A
 * response's netfn is the request's with bit 0 set (0x06 → 0x07); the seq
 * comes back unchanged, which is how a client matches responses.
 */
import { WireError } from '../errors.js';
import { VmChar } from './constants.js';
import { frameVmPayload, vmChecksum } from './escape.js';

export interface VmRequest {
  seq: number;
  netfn: number;
  lun: number;
  cmd: number;
  data: Uint8Array;
}

export interface VmResponse {
  seq: number;
  /** The response netfn (odd). */
  netfn: number;
  lun: number;
  cmd: number;
  cc: number;
  data: Uint8Array;
}

function checkU8(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new WireError('ERR_BAD_FIELD', `${what} ${value} is not a u8`);
}
function checkNetfnLun(netfn: number, lun: number): void {
  if (!Number.isInteger(netfn) || netfn < 0 || netfn > 0x3f) throw new WireError('ERR_BAD_FIELD', `netfn ${netfn} does not fit 6 bits`);
  if (!Number.isInteger(lun) || lun < 0 || lun > 3) throw new WireError('ERR_BAD_FIELD', `lun ${lun} does not fit 2 bits`);
}

function withChecksum(head: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + data.length + 1);
  out.set(head, 0);
  out.set(data, head.length);
  out[out.length - 1] = vmChecksum(out, out.length - 1);
  return out;
}

/** The unescaped payload of a request (checksum included, no terminator). */
export function encodeVmRequestPayload(r: VmRequest): Uint8Array {
  checkU8(r.seq, 'seq');
  checkU8(r.cmd, 'cmd');
  checkNetfnLun(r.netfn, r.lun);
  return withChecksum([r.seq, (r.netfn << 2) | r.lun, r.cmd], r.data);
}

/** The unescaped payload of a response (checksum included, no terminator). */
export function encodeVmResponsePayload(r: VmResponse): Uint8Array {
  checkU8(r.seq, 'seq');
  checkU8(r.cmd, 'cmd');
  checkU8(r.cc, 'cc');
  checkNetfnLun(r.netfn, r.lun);
  return withChecksum([r.seq, (r.netfn << 2) | r.lun, r.cmd, r.cc], r.data);
}

/** Wire bytes of a request: escaped payload + 0xA0. */
export function encodeVmRequestFrame(r: VmRequest): Uint8Array {
  return frameVmPayload(encodeVmRequestPayload(r), VmChar.MessageEnd);
}

/** Wire bytes of a response: escaped payload + 0xA0. */
export function encodeVmResponseFrame(r: VmResponse): Uint8Array {
  return frameVmPayload(encodeVmResponsePayload(r), VmChar.MessageEnd);
}

function checkSum(payload: Uint8Array): void {
  let sum = 0;
  for (const b of payload) sum = (sum + b) & 0xff;
  if (sum !== 0) throw new WireError('ERR_BAD_FIELD', `checksum mismatch (bytes sum to 0x${sum.toString(16)})`, payload.length - 1);
}

/** Decodes an unescaped request payload (as a VmFrameDecoder yields it). */
export function decodeVmRequestPayload(payload: Uint8Array): VmRequest {
  if (payload.length < 4) throw new WireError('ERR_TRUNCATED', `request of ${payload.length} bytes, need at least 4`, payload.length);
  checkSum(payload);
  const nl = payload[1] ?? 0;
  return { seq: payload[0] ?? 0, netfn: nl >> 2, lun: nl & 3, cmd: payload[2] ?? 0, data: payload.slice(3, -1) };
}

/** Decodes an unescaped response payload. */
export function decodeVmResponsePayload(payload: Uint8Array): VmResponse {
  if (payload.length < 5) throw new WireError('ERR_TRUNCATED', `response of ${payload.length} bytes, need at least 5`, payload.length);
  checkSum(payload);
  const nl = payload[1] ?? 0;
  return { seq: payload[0] ?? 0, netfn: nl >> 2, lun: nl & 3, cmd: payload[2] ?? 0, cc: payload[3] ?? 0, data: payload.slice(4, -1) };
}
