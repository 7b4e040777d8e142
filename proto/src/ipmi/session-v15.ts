/**
 * IPMI v1.5 session header (IPMI v2.0 §13.6, Table 13-8), accepted only in
 * its pre-session form: authentication type NONE, which is how lanplus
 * clients (ipmitool, FreeIPMI) ask Get Channel Authentication Capabilities
 * before they open an RMCP+ session. Every other authentication type means
 * an IPMI v1.5 session, which this project refuses (PROTOCOL.md §3).
 *
 *   0     auth type        0x00 (none)
 *   1..4  session seq      u32 LE
 *   5..8  session id       u32 LE
 *   9     message length   n
 *   10..  IPMI LAN message (n bytes)
 */
import { readU32LE, requireBytes, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { AuthType } from './payload-type.js';
import { isU32 } from './ranges.js';

export const IPMI15_HEADER_BYTES = 10;

export interface Ipmi15Session {
  sessionSeq: number;
  sessionId: number;
  message: Uint8Array;
}

export function encodeIpmi15Session(s: Ipmi15Session): Uint8Array {
  if (!isU32(s.sessionSeq) || !isU32(s.sessionId)) throw new WireError('ERR_BAD_FIELD', 'IPMI 1.5 session seq/id must be u32');
  if (s.message.length > 0xff) throw new WireError('ERR_BAD_FIELD', `IPMI 1.5 message of ${s.message.length} bytes exceeds 255`);
  const out = new Uint8Array(IPMI15_HEADER_BYTES + s.message.length);
  out[0] = AuthType.NONE;
  writeU32LE(out, 1, s.sessionSeq);
  writeU32LE(out, 5, s.sessionId);
  out[9] = s.message.length;
  out.set(s.message, IPMI15_HEADER_BYTES);
  return out;
}

export function decodeIpmi15Session(buf: Uint8Array, offset = 0): Ipmi15Session {
  requireBytes(buf, offset, 1, 'ERR_TRUNCATED', 'IPMI 1.5 auth type');
  const authType = buf[offset];
  if (authType !== AuthType.NONE) {
    throw new WireError('ERR_IPMI_UNSUPPORTED', `IPMI 1.5 authentication type 0x${(authType ?? 0).toString(16)} (v1.5 sessions are refused)`, offset);
  }
  requireBytes(buf, offset, IPMI15_HEADER_BYTES, 'ERR_TRUNCATED', 'IPMI 1.5 session header');
  const length = buf[offset + 9] ?? 0;
  const body = offset + IPMI15_HEADER_BYTES;
  requireBytes(buf, body, length, 'ERR_TRUNCATED', 'IPMI 1.5 message');
  if (body + length !== buf.length) throw new WireError('ERR_TRAILING_BYTES', 'bytes after IPMI 1.5 message', body + length);
  return {
    sessionSeq: readU32LE(buf, offset + 1),
    sessionId: readU32LE(buf, offset + 5),
    message: buf.slice(body, body + length),
  };
}
