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
import { createHmac } from 'node:crypto';
import { WireError } from '../errors.js';
import type { IntegrityAlgorithmInfo } from './algorithms.js';
import { constantTimeEqual } from './rakp-auth.js';

export const NEXT_HEADER = 0x07;
export const INTEGRITY_PAD_BYTE = 0xff;

/** Pad bytes needed after `unsignedLength` bytes (auth type .. payload end). */
export function integrityPadLength(unsignedLength: number): number {
  return (4 - ((unsignedLength + 2) % 4)) % 4;
}

/** Length of pad, pad length, next header and AuthCode after `unsignedLength` bytes. */
export function integrityTrailerLength(unsignedLength: number, info: IntegrityAlgorithmInfo): number {
  return integrityPadLength(unsignedLength) + 2 + info.authCodeLength;
}

/**
 * Writes the trailer in place: `session[0, unsignedLength)` holds auth type
 * .. payload end, and `session` is exactly unsignedLength +
 * integrityTrailerLength(unsignedLength) long.
 */
export function writeIntegrityTrailer(session: Uint8Array, unsignedLength: number, info: IntegrityAlgorithmInfo, k1: Uint8Array): void {
  const pad = integrityPadLength(unsignedLength);
  const signedEnd = unsignedLength + pad + 2;
  if (session.length !== signedEnd + info.authCodeLength) throw new RangeError('integrity trailer does not fit the buffer');
  session.fill(INTEGRITY_PAD_BYTE, unsignedLength, unsignedLength + pad);
  session[unsignedLength + pad] = pad;
  session[unsignedLength + pad + 1] = NEXT_HEADER;
  const mac = createHmac(info.hash, k1).update(session.subarray(0, signedEnd)).digest();
  session.set(mac.subarray(0, info.authCodeLength), signedEnd);
}

/**
 * Given the session bytes from the auth type through the end of the payload,
 * returns those bytes followed by pad, pad length, next header and AuthCode.
 */
export function appendIntegrityTrailer(unsigned: Uint8Array, info: IntegrityAlgorithmInfo, k1: Uint8Array): Uint8Array {
  const out = new Uint8Array(unsigned.length + integrityTrailerLength(unsigned.length, info));
  out.set(unsigned);
  writeIntegrityTrailer(out, unsigned.length, info, k1);
  return out;
}

export function integrityAuthCode(info: IntegrityAlgorithmInfo, k1: Uint8Array, signed: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(info.hash, k1).update(signed).digest().subarray(0, info.authCodeLength));
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
  const mac = createHmac(info.hash, k1).update(session.subarray(0, signedEnd)).digest();
  if (!constantTimeEqual(mac.subarray(0, info.authCodeLength), session.subarray(signedEnd))) throw new WireError('ERR_IPMI_INTEGRITY', 'AuthCode mismatch', signedEnd);
}
