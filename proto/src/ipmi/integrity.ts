/**
 * RMCP+ session trailer (IPMI v2.0 §13.28.4, Table 13-8), present when the
 * "authenticated" bit of the payload type is set:
 *
 *   integrity pad   0..3 bytes of 0xFF, so that everything from the auth
 *                   type byte through next header is a multiple of 4 bytes
 *   pad length      number of pad bytes
 *   next header     0x07 (always)
 *   AuthCode        HMAC_K1(auth type .. next header), truncated:
 *                   12 bytes HMAC-SHA1-96, 16 bytes HMAC-SHA256-128
 */
import { concatBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import type { IntegrityAlgorithmInfo } from './algorithms.js';
import { constantTimeEqual, ipmiHmac } from './rakp-auth.js';

export const NEXT_HEADER = 0x07;
export const INTEGRITY_PAD_BYTE = 0xff;

/** Pad bytes needed after `unsignedLength` bytes (auth type .. payload end). */
export function integrityPadLength(unsignedLength: number): number {
  return (4 - ((unsignedLength + 2) % 4)) % 4;
}

/**
 * Given the session bytes from the auth type through the end of the payload,
 * returns those bytes followed by pad, pad length, next header and AuthCode.
 */
export function appendIntegrityTrailer(unsigned: Uint8Array, info: IntegrityAlgorithmInfo, k1: Uint8Array): Uint8Array {
  const pad = integrityPadLength(unsigned.length);
  const trailer = new Uint8Array(pad + 2).fill(INTEGRITY_PAD_BYTE);
  trailer[pad] = pad;
  trailer[pad + 1] = NEXT_HEADER;
  const signed = concatBytes([unsigned, trailer]);
  return concatBytes([signed, integrityAuthCode(info, k1, signed)]);
}

export function integrityAuthCode(info: IntegrityAlgorithmInfo, k1: Uint8Array, signed: Uint8Array): Uint8Array {
  return ipmiHmac(info.hash, k1, signed).slice(0, info.authCodeLength);
}

/**
 * Checks the trailer of `session` (auth type .. AuthCode) whose payload ends
 * at `payloadEnd`. The AuthCode is compared in constant time; the structure
 * checks before it only look at bytes the HMAC covers as well.
 */
export function verifyIntegrityTrailer(session: Uint8Array, payloadEnd: number, info: IntegrityAlgorithmInfo, k1: Uint8Array): void {
  const trailerLength = session.length - payloadEnd;
  const pad = trailerLength - 2 - info.authCodeLength;
  if (pad < 0 || pad > 3) throw new WireError('ERR_IPMI_INTEGRITY', `integrity trailer of ${trailerLength} bytes does not fit the algorithm`, payloadEnd);
  const signedEnd = session.length - info.authCodeLength;
  if (session[signedEnd - 2] !== pad) throw new WireError('ERR_IPMI_INTEGRITY', 'integrity pad length does not match the trailer', signedEnd - 2);
  if (session[signedEnd - 1] !== NEXT_HEADER) throw new WireError('ERR_IPMI_INTEGRITY', 'next header is not 0x07', signedEnd - 1);
  const expected = integrityAuthCode(info, k1, session.subarray(0, signedEnd));
  if (!constantTimeEqual(expected, session.subarray(signedEnd))) throw new WireError('ERR_IPMI_INTEGRITY', 'AuthCode mismatch', signedEnd);
}
