/**
 * IPMI v2.0 / RMCP+ session header (IPMI v2.0 §13.6, Table 13-8):
 *
 *   0      auth type           0x06 (RMCP+)
 *   1      payload type        bit 7 encrypted, bit 6 authenticated, bits 5:0 type
 *   [2..5  OEM IANA            u32 LE, only for payload type 0x02 OEM explicit]
 *   [6..7  OEM payload id      u16 LE, only for payload type 0x02]
 *   +0..3  session id          u32 LE (the receiver's id; 0 before a session exists)
 *   +4..7  session seq         u32 LE (0 outside a session)
 *   +8..9  payload length      u16 LE
 *   +10..  payload             (IV + ciphertext when encrypted)
 *   ...    trailer             only when authenticated: 0xFF pad, pad length,
 *                              next header 0x07, AuthCode (integrity.ts)
 *
 * This codec keeps the trailer as raw bytes; session-crypto.ts checks it.
 */
import { readU16LE, readU32LE, requireBytes, writeU16LE, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { AuthType, PayloadType } from './payload-type.js';
import { isU16, isU32 } from './ranges.js';

export interface Ipmi20Session {
  payloadType: number;
  encrypted: boolean;
  authenticated: boolean;
  /** Present only for payload type 0x02 (OEM explicit). */
  oem?: { iana: number; payloadId: number };
  sessionId: number;
  sessionSeq: number;
  payload: Uint8Array;
  /** Integrity trailer bytes after the payload; empty unless `authenticated`. */
  trailer: Uint8Array;
}

export const MAX_IPMI20_PAYLOAD = 0xffff;

/** Length of the header up to and including the payload length field. */
export function ipmi20HeaderLength(payloadType: number): number {
  return payloadType === PayloadType.OEM_EXPLICIT ? 18 : 12;
}

export function encodeIpmi20Session(s: Ipmi20Session): Uint8Array {
  if (!Number.isInteger(s.payloadType) || s.payloadType < 0 || s.payloadType > 0x3f) {
    throw new WireError('ERR_BAD_FIELD', `payload type ${s.payloadType} does not fit 6 bits`);
  }
  if (!isU32(s.sessionId) || !isU32(s.sessionSeq)) throw new WireError('ERR_BAD_FIELD', 'session id/seq must be u32');
  if (s.payload.length > MAX_IPMI20_PAYLOAD) throw new WireError('ERR_BAD_FIELD', 'payload longer than 65535 bytes');
  if (!s.authenticated && s.trailer.length > 0) throw new WireError('ERR_BAD_FIELD', 'trailer on an unauthenticated packet');
  const isOem = s.payloadType === PayloadType.OEM_EXPLICIT;
  if (isOem !== (s.oem !== undefined)) throw new WireError('ERR_BAD_FIELD', 'OEM IANA/payload id go with payload type 0x02 only');
  if (s.oem && (!isU32(s.oem.iana) || !isU16(s.oem.payloadId))) throw new WireError('ERR_BAD_FIELD', 'OEM IANA/payload id out of range');
  const head = ipmi20HeaderLength(s.payloadType);
  const out = new Uint8Array(head + s.payload.length + s.trailer.length);
  out[0] = AuthType.RMCP_PLUS;
  out[1] = (s.encrypted ? 0x80 : 0) | (s.authenticated ? 0x40 : 0) | s.payloadType;
  let at = 2;
  if (s.oem) {
    writeU32LE(out, 2, s.oem.iana);
    writeU16LE(out, 6, s.oem.payloadId);
    at = 8;
  }
  writeU32LE(out, at, s.sessionId);
  writeU32LE(out, at + 4, s.sessionSeq);
  writeU16LE(out, at + 8, s.payload.length);
  out.set(s.payload, head);
  out.set(s.trailer, head + s.payload.length);
  return out;
}

export function decodeIpmi20Session(buf: Uint8Array, offset = 0): Ipmi20Session {
  requireBytes(buf, offset, 2, 'ERR_TRUNCATED', 'IPMI 2.0 session header');
  if (buf[offset] !== AuthType.RMCP_PLUS) throw new WireError('ERR_BAD_FIELD', 'auth type is not 0x06 (RMCP+)', offset);
  const typeByte = buf[offset + 1] ?? 0;
  const payloadType = typeByte & 0x3f;
  const encrypted = (typeByte & 0x80) !== 0;
  const authenticated = (typeByte & 0x40) !== 0;
  const head = ipmi20HeaderLength(payloadType);
  requireBytes(buf, offset, head, 'ERR_TRUNCATED', 'IPMI 2.0 session header');
  let at = offset + 2;
  let oem: Ipmi20Session['oem'];
  if (payloadType === PayloadType.OEM_EXPLICIT) {
    oem = { iana: readU32LE(buf, at), payloadId: readU16LE(buf, at + 4) };
    at += 6;
  }
  const sessionId = readU32LE(buf, at);
  const sessionSeq = readU32LE(buf, at + 4);
  const length = readU16LE(buf, at + 8);
  const body = offset + head;
  requireBytes(buf, body, length, 'ERR_TRUNCATED', 'IPMI 2.0 payload');
  const trailer = buf.slice(body + length);
  if (!authenticated && trailer.length > 0) throw new WireError('ERR_TRAILING_BYTES', 'bytes after the payload of an unauthenticated packet', body + length);
  const out: Ipmi20Session = { payloadType, encrypted, authenticated, sessionId, sessionSeq, payload: buf.slice(body, body + length), trailer };
  if (oem) out.oem = oem;
  return out;
}
