/**
 * RMCP+ algorithm numbers (IPMI v2.0 §13.28, Tables 13-17/18/19) and the
 * lengths that follow from them. Only the algorithms of cipher suites 3 and
 * 17 have an implementation here; the rest are named so peers' offers can be
 * recognised and refused cleanly.
 */
import { WireError } from '../errors.js';

export const AuthAlgorithm = {
  RAKP_NONE: 0x00,
  RAKP_HMAC_SHA1: 0x01,
  RAKP_HMAC_MD5: 0x02,
  RAKP_HMAC_SHA256: 0x03,
} as const;

export const IntegrityAlgorithm = {
  NONE: 0x00,
  HMAC_SHA1_96: 0x01,
  HMAC_MD5_128: 0x02,
  MD5_128: 0x03,
  HMAC_SHA256_128: 0x04,
} as const;

export const ConfidentialityAlgorithm = {
  NONE: 0x00,
  AES_CBC_128: 0x01,
  XRC4_128: 0x02,
  XRC4_40: 0x03,
} as const;

export interface AuthAlgorithmInfo {
  /** node:crypto hash name of the RAKP HMAC. */
  hash: 'sha1' | 'sha256';
  /** Length of the RAKP2/RAKP3 auth codes, SIK, K1 and K2. */
  keyLength: number;
  /** Length of the RAKP4 integrity check value (§13.31: HMAC truncated: 12 for SHA1, 16 for SHA256). */
  icvLength: number;
}

export interface IntegrityAlgorithmInfo {
  hash: 'sha1' | 'sha256';
  /** AuthCode length in the session trailer (96 or 128 bits). */
  authCodeLength: number;
}

export function authAlgorithmInfo(alg: number): AuthAlgorithmInfo {
  if (alg === AuthAlgorithm.RAKP_HMAC_SHA1) return { hash: 'sha1', keyLength: 20, icvLength: 12 };
  if (alg === AuthAlgorithm.RAKP_HMAC_SHA256) return { hash: 'sha256', keyLength: 32, icvLength: 16 };
  throw new WireError('ERR_IPMI_UNSUPPORTED', `authentication algorithm 0x${alg.toString(16)} is not supported`);
}

/** `undefined` for NONE; throws for algorithms without an implementation. */
export function integrityAlgorithmInfo(alg: number): IntegrityAlgorithmInfo | undefined {
  if (alg === IntegrityAlgorithm.NONE) return undefined;
  if (alg === IntegrityAlgorithm.HMAC_SHA1_96) return { hash: 'sha1', authCodeLength: 12 };
  if (alg === IntegrityAlgorithm.HMAC_SHA256_128) return { hash: 'sha256', authCodeLength: 16 };
  throw new WireError('ERR_IPMI_UNSUPPORTED', `integrity algorithm 0x${alg.toString(16)} is not supported`);
}

export function checkConfidentialityAlgorithm(alg: number): void {
  if (alg !== ConfidentialityAlgorithm.NONE && alg !== ConfidentialityAlgorithm.AES_CBC_128) {
    throw new WireError('ERR_IPMI_UNSUPPORTED', `confidentiality algorithm 0x${alg.toString(16)} is not supported`);
  }
}
