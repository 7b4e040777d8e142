/**
 * IPMI LAN message (IPMI v2.0 §13.8, Table 13-4), the payload of payload
 * type 0x00 and the body of an IPMI 1.5 session:
 *
 *   request                          response
 *   0  rsAddr                        0  rqAddr
 *   1  netFn<<2 | rsLUN              1  netFn<<2 | rqLUN   (netFn odd)
 *   2  chk1 = -(byte0+byte1)         2  chk1
 *   3  rqAddr                        3  rsAddr
 *   4  rqSeq<<2 | rqLUN              4  rqSeq<<2 | rsLUN
 *   5  cmd                           5  cmd
 *   6.. data                         6  completion code
 *   last chk2 = -(bytes 3..last-1)   7.. data, last chk2
 *
 * Both checksums make their bytes sum to 0 mod 256 (§13.8 "two's complement").
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { isByte } from './ranges.js';

export interface IpmiLanRequest {
  rsAddr: number;
  netFn: number;
  rsLun: number;
  rqAddr: number;
  /** 6-bit IPMI request sequence, echoed by the responder; how a requester matches responses. */
  rqSeq: number;
  rqLun: number;
  cmd: number;
  data: Uint8Array;
}

export interface IpmiLanResponse {
  rqAddr: number;
  netFn: number;
  rqLun: number;
  rsAddr: number;
  rqSeq: number;
  rsLun: number;
  cmd: number;
  cc: number;
  data: Uint8Array;
}

export const LAN_REQUEST_MIN_BYTES = 7;
export const LAN_RESPONSE_MIN_BYTES = 8;

/** Two's-complement checksum of buf[from, to): the byte that makes the sum 0 mod 256. */
export function ipmiChecksum(buf: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + (buf[i] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}

function checkFields(netFn: number, lunA: number, rqSeq: number, lunB: number, b0: number, b1: number, b2: number, b3?: number): void {
  if (!Number.isInteger(netFn) || netFn < 0 || netFn > 0x3f) throw new WireError('ERR_BAD_FIELD', `netFn ${netFn} does not fit 6 bits`);
  if (!Number.isInteger(rqSeq) || rqSeq < 0 || rqSeq > 0x3f) throw new WireError('ERR_BAD_FIELD', `rqSeq ${rqSeq} does not fit 6 bits`);
  checkLun(lunA);
  checkLun(lunB);
  checkByte(b0);
  checkByte(b1);
  checkByte(b2);
  if (b3 !== undefined) checkByte(b3);
}

function checkLun(lun: number): void {
  if (!Number.isInteger(lun) || lun < 0 || lun > 3) throw new WireError('ERR_BAD_FIELD', `LUN ${lun} does not fit 2 bits`);
}

function checkByte(b: number): void {
  if (!isByte(b)) throw new WireError('ERR_BAD_FIELD', `field value ${b} is not a byte`);
}

/** Header bytes 0..4, then `head` (cmd, or cmd and cc), then data, then chk2: one allocation. */
function frame(a0: number, netFn: number, lun1: number, a3: number, rqSeq: number, lun4: number, head: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + head.length + data.length + 1);
  out[0] = a0;
  out[1] = (netFn << 2) | lun1;
  out[2] = ipmiChecksum(out, 0, 2);
  out[3] = a3;
  out[4] = (rqSeq << 2) | lun4;
  for (let i = 0; i < head.length; i++) out[5 + i] = head[i] ?? 0;
  out.set(data, 5 + head.length);
  out[out.length - 1] = ipmiChecksum(out, 3, out.length - 1);
  return out;
}

export function encodeIpmiLanRequest(m: IpmiLanRequest): Uint8Array {
  checkFields(m.netFn, m.rsLun, m.rqSeq, m.rqLun, m.rsAddr, m.rqAddr, m.cmd);
  return frame(m.rsAddr, m.netFn, m.rsLun, m.rqAddr, m.rqSeq, m.rqLun, [m.cmd], m.data);
}

export function encodeIpmiLanResponse(m: IpmiLanResponse): Uint8Array {
  checkFields(m.netFn, m.rqLun, m.rqSeq, m.rsLun, m.rqAddr, m.rsAddr, m.cmd, m.cc);
  return frame(m.rqAddr, m.netFn, m.rqLun, m.rsAddr, m.rqSeq, m.rsLun, [m.cmd, m.cc], m.data);
}

function verifyChecksums(buf: Uint8Array, min: number, what: string): void {
  requireBytes(buf, 0, min, 'ERR_TRUNCATED', what);
  if (((buf[0] ?? 0) + (buf[1] ?? 0) + (buf[2] ?? 0)) & 0xff) throw new WireError('ERR_IPMI_CHECKSUM', `${what}: header checksum`, 2);
  let sum = 0;
  for (let i = 3; i < buf.length; i++) sum = (sum + (buf[i] ?? 0)) & 0xff;
  if (sum !== 0) throw new WireError('ERR_IPMI_CHECKSUM', `${what}: data checksum`, buf.length - 1);
}

/** Decodes a whole message: `buf` must hold exactly one request. */
export function decodeIpmiLanRequest(buf: Uint8Array): IpmiLanRequest {
  verifyChecksums(buf, LAN_REQUEST_MIN_BYTES, 'IPMI LAN request');
  return {
    rsAddr: buf[0] ?? 0,
    netFn: (buf[1] ?? 0) >> 2,
    rsLun: (buf[1] ?? 0) & 3,
    rqAddr: buf[3] ?? 0,
    rqSeq: (buf[4] ?? 0) >> 2,
    rqLun: (buf[4] ?? 0) & 3,
    cmd: buf[5] ?? 0,
    data: buf.slice(6, buf.length - 1),
  };
}

/** Decodes a whole message: `buf` must hold exactly one response. */
export function decodeIpmiLanResponse(buf: Uint8Array): IpmiLanResponse {
  verifyChecksums(buf, LAN_RESPONSE_MIN_BYTES, 'IPMI LAN response');
  return {
    rqAddr: buf[0] ?? 0,
    netFn: (buf[1] ?? 0) >> 2,
    rqLun: (buf[1] ?? 0) & 3,
    rsAddr: buf[3] ?? 0,
    rqSeq: (buf[4] ?? 0) >> 2,
    rsLun: (buf[4] ?? 0) & 3,
    cmd: buf[5] ?? 0,
    cc: buf[6] ?? 0,
    data: buf.slice(7, buf.length - 1),
  };
}
