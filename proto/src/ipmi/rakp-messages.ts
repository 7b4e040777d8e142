/**
 * RAKP messages 1-4 (IPMI v2.0 §13.20-13.23), payload types 0x12-0x15:
 *
 *   RAKP1 (console → BMC)               RAKP2 (BMC → console)
 *   0      message tag                  0      message tag
 *   1..3   reserved                     1      status
 *   4..7   managed system session id    2..3   reserved
 *   8..23  remote console random Rm     4..7   remote console session id
 *   24     role: bit 4 name-only        8..23  managed system random Rc
 *          lookup, bits 3:0 privilege   24..39 managed system GUID
 *   25..26 reserved                     40..   key exchange auth code
 *   27     user name length (0..16)
 *   28..   user name
 *
 *   RAKP3 (console → BMC)               RAKP4 (BMC → console)
 *   0      message tag                  0      message tag
 *   1      status                       1      status
 *   2..3   reserved                     2..3   reserved
 *   4..7   managed system session id    4..7   remote console session id
 *   8..    key exchange auth code       8..    integrity check value
 *
 * Auth codes and the ICV are kept as bytes; their length depends on the
 * negotiated algorithm and is checked by the session layer (rakp-auth.ts).
 * A RAKP2 with a non-zero status may stop after byte 7.
 */
import { readU32LE, requireBytes, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { isByte, isU32 } from './ranges.js';

export const RAKP_RANDOM_BYTES = 16;
export const RAKP_GUID_BYTES = 16;
export const MAX_USER_NAME_BYTES = 16;
/** Bit 4 of the RAKP1 role byte: look the user up by name only, not name and privilege (§13.20). */
export const RAKP_NAME_ONLY_LOOKUP = 0x10;

export interface Rakp1 {
  messageTag: number;
  managedSystemSessionId: number;
  remoteConsoleRandom: Uint8Array;
  /** The whole role byte (privilege | name-only lookup bit); it enters the HMACs as sent. */
  role: number;
  userName: Uint8Array;
}

export type Rakp2 =
  | {
      messageTag: number;
      status: 0;
      remoteConsoleSessionId: number;
      managedSystemRandom: Uint8Array;
      managedSystemGuid: Uint8Array;
      keyExchangeAuthCode: Uint8Array;
    }
  | { messageTag: number; status: number; remoteConsoleSessionId: number };

export interface Rakp3 {
  messageTag: number;
  status: number;
  managedSystemSessionId: number;
  keyExchangeAuthCode: Uint8Array;
}

export interface Rakp4 {
  messageTag: number;
  status: number;
  remoteConsoleSessionId: number;
  integrityCheckValue: Uint8Array;
}

export const RAKP1_MIN_BYTES = 28;
export const RAKP2_OK_MIN_BYTES = 40;
export const RAKP34_MIN_BYTES = 8;

function checkLength(bytes: Uint8Array, n: number, what: string): void {
  if (bytes.length !== n) throw new WireError('ERR_BAD_FIELD', `${what} must be ${n} bytes, got ${bytes.length}`);
}

function head(tag: number, status: number, id: number, rest: number): Uint8Array {
  if (!isByte(tag) || !isByte(status) || !isU32(id)) throw new WireError('ERR_BAD_FIELD', 'RAKP tag/status/session id out of range');
  const out = new Uint8Array(8 + rest);
  out[0] = tag;
  out[1] = status;
  writeU32LE(out, 4, id);
  return out;
}

export function encodeRakp1(m: Rakp1): Uint8Array {
  checkLength(m.remoteConsoleRandom, RAKP_RANDOM_BYTES, 'remote console random');
  if (m.userName.length > MAX_USER_NAME_BYTES) throw new WireError('ERR_BAD_FIELD', `user name of ${m.userName.length} bytes exceeds 16`);
  if (!isByte(m.role)) throw new WireError('ERR_BAD_FIELD', 'RAKP1 role is not a byte');
  // RAKP1 byte 1 is reserved, not a status: head() writes 0 there.
  const out = head(m.messageTag, 0, m.managedSystemSessionId, 20 + m.userName.length);
  out.set(m.remoteConsoleRandom, 8);
  out[24] = m.role;
  out[27] = m.userName.length;
  out.set(m.userName, 28);
  return out;
}

export function decodeRakp1(buf: Uint8Array): Rakp1 {
  requireBytes(buf, 0, RAKP1_MIN_BYTES, 'ERR_TRUNCATED', 'RAKP1');
  const nameLength = buf[27] ?? 0;
  if (nameLength > MAX_USER_NAME_BYTES) throw new WireError('ERR_BAD_FIELD', `user name length ${nameLength} exceeds 16`, 27);
  requireBytes(buf, RAKP1_MIN_BYTES, nameLength, 'ERR_TRUNCATED', 'RAKP1 user name');
  if (buf.length !== RAKP1_MIN_BYTES + nameLength) throw new WireError('ERR_TRAILING_BYTES', 'bytes after RAKP1 user name', RAKP1_MIN_BYTES + nameLength);
  return {
    messageTag: buf[0] ?? 0,
    managedSystemSessionId: readU32LE(buf, 4),
    remoteConsoleRandom: buf.slice(8, 24),
    role: buf[24] ?? 0,
    userName: buf.slice(28, 28 + nameLength),
  };
}

export function encodeRakp2(m: Rakp2): Uint8Array {
  if (!('managedSystemRandom' in m)) {
    if (m.status === 0) throw new WireError('ERR_BAD_FIELD', 'a successful RAKP2 needs random, GUID and auth code');
    return head(m.messageTag, m.status, m.remoteConsoleSessionId, 0);
  }
  checkLength(m.managedSystemRandom, RAKP_RANDOM_BYTES, 'managed system random');
  checkLength(m.managedSystemGuid, RAKP_GUID_BYTES, 'managed system GUID');
  const out = head(m.messageTag, 0, m.remoteConsoleSessionId, 32 + m.keyExchangeAuthCode.length);
  out.set(m.managedSystemRandom, 8);
  out.set(m.managedSystemGuid, 24);
  out.set(m.keyExchangeAuthCode, 40);
  return out;
}

export function decodeRakp2(buf: Uint8Array): Rakp2 {
  requireBytes(buf, 0, 2, 'ERR_TRUNCATED', 'RAKP2');
  const messageTag = buf[0] ?? 0;
  const status = buf[1] ?? 0;
  if (status !== 0) return { messageTag, status, remoteConsoleSessionId: buf.length >= 8 ? readU32LE(buf, 4) : 0 };
  requireBytes(buf, 0, RAKP2_OK_MIN_BYTES, 'ERR_TRUNCATED', 'RAKP2');
  return {
    messageTag,
    status: 0,
    remoteConsoleSessionId: readU32LE(buf, 4),
    managedSystemRandom: buf.slice(8, 24),
    managedSystemGuid: buf.slice(24, 40),
    keyExchangeAuthCode: buf.slice(40),
  };
}

export function encodeRakp3(m: Rakp3): Uint8Array {
  const out = head(m.messageTag, m.status, m.managedSystemSessionId, m.keyExchangeAuthCode.length);
  out.set(m.keyExchangeAuthCode, 8);
  return out;
}

export function decodeRakp3(buf: Uint8Array): Rakp3 {
  requireBytes(buf, 0, RAKP34_MIN_BYTES, 'ERR_TRUNCATED', 'RAKP3');
  return { messageTag: buf[0] ?? 0, status: buf[1] ?? 0, managedSystemSessionId: readU32LE(buf, 4), keyExchangeAuthCode: buf.slice(8) };
}

export function encodeRakp4(m: Rakp4): Uint8Array {
  const out = head(m.messageTag, m.status, m.remoteConsoleSessionId, m.integrityCheckValue.length);
  out.set(m.integrityCheckValue, 8);
  return out;
}

export function decodeRakp4(buf: Uint8Array): Rakp4 {
  requireBytes(buf, 0, RAKP34_MIN_BYTES, 'ERR_TRUNCATED', 'RAKP4');
  return { messageTag: buf[0] ?? 0, status: buf[1] ?? 0, remoteConsoleSessionId: readU32LE(buf, 4), integrityCheckValue: buf.slice(8) };
}
