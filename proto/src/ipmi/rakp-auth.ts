/**
 * RAKP key exchange crypto (IPMI v2.0 §13.31-13.32). The HMAC inputs are
 * built by separate functions so the client and the server (which compute
 * the same values from opposite sides) share one definition.
 *
 *   RAKP2 auth code = HMAC_Kuid(SIDm | SIDc | Rm | Rc | GUIDc | ROLEm | ULENm | UNAMEm)
 *   RAKP3 auth code = HMAC_Kuid(Rc | SIDm | ROLEm | ULENm | UNAMEm)
 *   SIK             = HMAC_Kg (Rm | Rc | ROLEm | ULENm | UNAMEm)     (Kg = Kuid when no BMC key)
 *   RAKP4 ICV       = HMAC_SIK(Rm | SIDc | GUIDc), truncated (12 B SHA1, 16 B SHA256)
 *   K1 = HMAC_SIK(0x01 × 20), K2 = HMAC_SIK(0x02 × 20)          (20 bytes for every algorithm, SHA256 too)
 *
 * SIDm is the remote console's (client's) session id, SIDc the managed
 * system's (BMC's); session ids are little-endian as on the wire. ROLEm is
 * the whole RAKP1 role byte including the name-only lookup bit.
 * Kuid is the user's password, zero-padded to 20 bytes (§13.31: "keys are
 * 20 bytes for IPMI v2.0"); HMAC pads short keys with zeros anyway, so the
 * padding never changes a value but the length limit matters.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { concatBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { authAlgorithmInfo } from './algorithms.js';
import { RAKP_GUID_BYTES, RAKP_RANDOM_BYTES } from './rakp-messages.js';

export const MAX_PASSWORD_BYTES = 20;

export interface RakpContext {
  authAlgorithm: number;
  remoteConsoleSessionId: number;
  managedSystemSessionId: number;
  remoteConsoleRandom: Uint8Array;
  managedSystemRandom: Uint8Array;
  managedSystemGuid: Uint8Array;
  role: number;
  userName: Uint8Array;
}

export interface SessionKeyMaterial {
  sik: Uint8Array;
  /** Integrity key (the whole K1). */
  k1: Uint8Array;
  /** K2; its first 16 bytes are the AES-CBC-128 key. */
  k2: Uint8Array;
}

/** Kuid: the password bytes zero-padded to 20 bytes. */
export function passwordKey(password: Uint8Array): Uint8Array {
  if (password.length > MAX_PASSWORD_BYTES) throw new WireError('ERR_BAD_FIELD', `IPMI v2.0 passwords are at most 20 bytes, got ${password.length}`);
  const key = new Uint8Array(MAX_PASSWORD_BYTES);
  key.set(password);
  return key;
}

export function ipmiHmac(hash: 'sha1' | 'sha256', key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(hash, key).update(data).digest());
}

/** Constant-time equality; different lengths are unequal (the length itself is public). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

function u32le(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
}

function checkContext(c: RakpContext): void {
  if (c.remoteConsoleRandom.length !== RAKP_RANDOM_BYTES || c.managedSystemRandom.length !== RAKP_RANDOM_BYTES) {
    throw new WireError('ERR_BAD_FIELD', 'RAKP randoms must be 16 bytes');
  }
  if (c.managedSystemGuid.length !== RAKP_GUID_BYTES) throw new WireError('ERR_BAD_FIELD', 'managed system GUID must be 16 bytes');
  if (c.userName.length > 16) throw new WireError('ERR_BAD_FIELD', 'user name longer than 16 bytes');
}

function roleAndName(c: RakpContext): Uint8Array {
  return concatBytes([new Uint8Array([c.role & 0xff, c.userName.length]), c.userName]);
}

export function rakp2AuthCodeInput(c: RakpContext): Uint8Array {
  checkContext(c);
  return concatBytes([
    u32le(c.remoteConsoleSessionId),
    u32le(c.managedSystemSessionId),
    c.remoteConsoleRandom,
    c.managedSystemRandom,
    c.managedSystemGuid,
    roleAndName(c),
  ]);
}

export function rakp3AuthCodeInput(c: RakpContext): Uint8Array {
  checkContext(c);
  return concatBytes([c.managedSystemRandom, u32le(c.remoteConsoleSessionId), roleAndName(c)]);
}

export function sikInput(c: RakpContext): Uint8Array {
  checkContext(c);
  return concatBytes([c.remoteConsoleRandom, c.managedSystemRandom, roleAndName(c)]);
}

export function rakp4IcvInput(c: RakpContext): Uint8Array {
  checkContext(c);
  return concatBytes([c.remoteConsoleRandom, u32le(c.managedSystemSessionId), c.managedSystemGuid]);
}

export function rakp2AuthCode(c: RakpContext, kuid: Uint8Array): Uint8Array {
  return ipmiHmac(authAlgorithmInfo(c.authAlgorithm).hash, kuid, rakp2AuthCodeInput(c));
}

export function rakp3AuthCode(c: RakpContext, kuid: Uint8Array): Uint8Array {
  return ipmiHmac(authAlgorithmInfo(c.authAlgorithm).hash, kuid, rakp3AuthCodeInput(c));
}

/** SIK, keyed with Kg (the BMC key) or, when the BMC has none, with Kuid. */
export function deriveSik(c: RakpContext, kg: Uint8Array): Uint8Array {
  return ipmiHmac(authAlgorithmInfo(c.authAlgorithm).hash, kg, sikInput(c));
}

export function rakp4Icv(c: RakpContext, sik: Uint8Array): Uint8Array {
  const info = authAlgorithmInfo(c.authAlgorithm);
  return ipmiHmac(info.hash, sik, rakp4IcvInput(c)).slice(0, info.icvLength);
}

/**
 * K_n = HMAC_SIK(Const n), §13.32. The constants are 20 bytes of n whatever
 * the hash (the spec defines Const 1..2 as 20 bytes; ipmitool and FreeIPMI
 * use 20 for RAKP-HMAC-SHA256 too, so 32 would not interoperate).
 */
export const KEY_CONSTANT_BYTES = 20;

export function deriveKn(authAlgorithm: number, sik: Uint8Array, n: number): Uint8Array {
  const info = authAlgorithmInfo(authAlgorithm);
  return ipmiHmac(info.hash, sik, new Uint8Array(KEY_CONSTANT_BYTES).fill(n));
}

export function deriveSessionKeys(c: RakpContext, kg: Uint8Array): SessionKeyMaterial {
  const sik = deriveSik(c, kg);
  return { sik, k1: deriveKn(c.authAlgorithm, sik, 1), k2: deriveKn(c.authAlgorithm, sik, 2) };
}
