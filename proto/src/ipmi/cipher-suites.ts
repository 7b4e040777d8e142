/**
 * Cipher suites (IPMI v2.0 §22.15.2, Table 22-20) and the cipher suite
 * records of Get Channel Cipher Suites (Table 22-18):
 *
 *   standard record:  0xC0  suite id  algorithm tags...
 *   OEM record:       0xC1  suite id  OEM IANA[3, LE]  algorithm tags...
 *
 *   algorithm tag: bits 7:6 = 00 authentication, 01 integrity,
 *                  10 confidentiality; bits 5:0 = algorithm number.
 *
 * Tags never have bits 7:6 = 11, so the next 0xC0/0xC1 starts a new record.
 * Only suites 3 and 17 are implemented; the others are named to recognise them.
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { AuthAlgorithm as A, ConfidentialityAlgorithm as C, IntegrityAlgorithm as I } from './algorithms.js';

export interface CipherSuiteAlgorithms {
  authAlgorithm: number;
  integrityAlgorithm: number;
  confidentialityAlgorithm: number;
}

/** The standard suites 0..19, Table 22-20. */
export const STANDARD_CIPHER_SUITES: Readonly<Record<number, CipherSuiteAlgorithms>> = Object.freeze({
  0: suite(A.RAKP_NONE, I.NONE, C.NONE),
  1: suite(A.RAKP_HMAC_SHA1, I.NONE, C.NONE),
  2: suite(A.RAKP_HMAC_SHA1, I.HMAC_SHA1_96, C.NONE),
  3: suite(A.RAKP_HMAC_SHA1, I.HMAC_SHA1_96, C.AES_CBC_128),
  4: suite(A.RAKP_HMAC_SHA1, I.HMAC_SHA1_96, C.XRC4_128),
  5: suite(A.RAKP_HMAC_SHA1, I.HMAC_SHA1_96, C.XRC4_40),
  6: suite(A.RAKP_HMAC_MD5, I.NONE, C.NONE),
  7: suite(A.RAKP_HMAC_MD5, I.HMAC_MD5_128, C.NONE),
  8: suite(A.RAKP_HMAC_MD5, I.HMAC_MD5_128, C.AES_CBC_128),
  9: suite(A.RAKP_HMAC_MD5, I.HMAC_MD5_128, C.XRC4_128),
  10: suite(A.RAKP_HMAC_MD5, I.HMAC_MD5_128, C.XRC4_40),
  11: suite(A.RAKP_HMAC_MD5, I.MD5_128, C.NONE),
  12: suite(A.RAKP_HMAC_MD5, I.MD5_128, C.AES_CBC_128),
  13: suite(A.RAKP_HMAC_MD5, I.MD5_128, C.XRC4_128),
  14: suite(A.RAKP_HMAC_MD5, I.MD5_128, C.XRC4_40),
  15: suite(A.RAKP_HMAC_SHA256, I.NONE, C.NONE),
  16: suite(A.RAKP_HMAC_SHA256, I.HMAC_SHA256_128, C.NONE),
  17: suite(A.RAKP_HMAC_SHA256, I.HMAC_SHA256_128, C.AES_CBC_128),
  18: suite(A.RAKP_HMAC_SHA256, I.HMAC_SHA256_128, C.XRC4_128),
  19: suite(A.RAKP_HMAC_SHA256, I.HMAC_SHA256_128, C.XRC4_40),
});

/** Suites with an implementation here (PROTOCOL.md §3); suite 0 is refused always. */
export const IMPLEMENTED_CIPHER_SUITES: readonly number[] = Object.freeze([3, 17]);

function suite(authAlgorithm: number, integrityAlgorithm: number, confidentialityAlgorithm: number): CipherSuiteAlgorithms {
  return Object.freeze({ authAlgorithm, integrityAlgorithm, confidentialityAlgorithm });
}

export function cipherSuiteAlgorithms(id: number): CipherSuiteAlgorithms | undefined {
  return STANDARD_CIPHER_SUITES[id];
}

export function isImplementedCipherSuite(id: number): boolean {
  return IMPLEMENTED_CIPHER_SUITES.includes(id);
}

/** The standard suite id with exactly these algorithms, if any. */
export function cipherSuiteIdOf(a: CipherSuiteAlgorithms): number | undefined {
  for (const [id, s] of Object.entries(STANDARD_CIPHER_SUITES)) {
    if (s.authAlgorithm === a.authAlgorithm && s.integrityAlgorithm === a.integrityAlgorithm && s.confidentialityAlgorithm === a.confidentialityAlgorithm) {
      return Number(id);
    }
  }
  return undefined;
}

export interface CipherSuiteRecord {
  id: number;
  /** Present for OEM records (0xC1). */
  oemIana?: number;
  authAlgorithms: number[];
  integrityAlgorithms: number[];
  confidentialityAlgorithms: number[];
}

const START_STANDARD = 0xc0;
const START_OEM = 0xc1;

/** The record a BMC publishes for a standard suite id. */
export function standardCipherSuiteRecord(id: number): CipherSuiteRecord {
  const s = cipherSuiteAlgorithms(id);
  if (!s) throw new WireError('ERR_BAD_FIELD', `cipher suite ${id} is not a standard suite`);
  return { id, authAlgorithms: [s.authAlgorithm], integrityAlgorithms: [s.integrityAlgorithm], confidentialityAlgorithms: [s.confidentialityAlgorithm] };
}

export function encodeCipherSuiteRecords(records: readonly CipherSuiteRecord[]): Uint8Array {
  const out: number[] = [];
  for (const r of records) {
    if (!Number.isInteger(r.id) || r.id < 0 || r.id > 0xff) throw new WireError('ERR_BAD_FIELD', `cipher suite id ${r.id} is not a byte`);
    if (r.oemIana === undefined) out.push(START_STANDARD, r.id);
    else {
      if (!Number.isInteger(r.oemIana) || r.oemIana < 0 || r.oemIana > 0xffffff) throw new WireError('ERR_BAD_FIELD', 'OEM IANA does not fit 3 bytes');
      out.push(START_OEM, r.id, r.oemIana & 0xff, (r.oemIana >>> 8) & 0xff, (r.oemIana >>> 16) & 0xff);
    }
    for (const [tag, algs] of [
      [0x00, r.authAlgorithms],
      [0x40, r.integrityAlgorithms],
      [0x80, r.confidentialityAlgorithms],
    ] as const) {
      for (const alg of algs) {
        if (!Number.isInteger(alg) || alg < 0 || alg > 0x3f) throw new WireError('ERR_BAD_FIELD', `algorithm ${alg} does not fit 6 bits`);
        out.push(tag | alg);
      }
    }
  }
  return new Uint8Array(out);
}

/** Parses the concatenated record data of all Get Channel Cipher Suites responses. */
export function decodeCipherSuiteRecords(buf: Uint8Array): CipherSuiteRecord[] {
  const records: CipherSuiteRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    const start = buf[at];
    if (start !== START_STANDARD && start !== START_OEM) throw new WireError('ERR_BAD_FIELD', `cipher suite record starts with 0x${(start ?? 0).toString(16)}`, at);
    const headLength = start === START_OEM ? 5 : 2;
    requireBytes(buf, at, headLength, 'ERR_TRUNCATED', 'cipher suite record');
    const record: CipherSuiteRecord = { id: buf[at + 1] ?? 0, authAlgorithms: [], integrityAlgorithms: [], confidentialityAlgorithms: [] };
    if (start === START_OEM) record.oemIana = (buf[at + 2] ?? 0) | ((buf[at + 3] ?? 0) << 8) | ((buf[at + 4] ?? 0) << 16);
    at += headLength;
    let lastKind = 0;
    while (at < buf.length && ((buf[at] ?? 0) & 0xc0) !== 0xc0) {
      const tag = buf[at] ?? 0;
      const kind = tag >> 6;
      // Tags come grouped auth, then integrity, then confidentiality; anything else would not re-encode identically.
      if (kind < lastKind) throw new WireError('ERR_BAD_FIELD', 'cipher suite algorithm tags out of order', at);
      lastKind = kind;
      const alg = tag & 0x3f;
      if (kind === 0) record.authAlgorithms.push(alg);
      else if (kind === 1) record.integrityAlgorithms.push(alg);
      else record.confidentialityAlgorithms.push(alg);
      at++;
    }
    records.push(record);
  }
  return records;
}

/** The suite ids offered by `records` whose algorithms are a standard suite's (OEM records are skipped). */
export function offeredStandardSuites(records: readonly CipherSuiteRecord[]): number[] {
  const ids: number[] = [];
  for (const r of records) {
    if (r.oemIana !== undefined) continue;
    const std = cipherSuiteAlgorithms(r.id);
    if (!std) continue;
    if (r.authAlgorithms.includes(std.authAlgorithm) && r.integrityAlgorithms.includes(std.integrityAlgorithm) && r.confidentialityAlgorithms.includes(std.confidentialityAlgorithm)) {
      ids.push(r.id);
    }
  }
  return ids;
}
