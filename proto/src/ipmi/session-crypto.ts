/**
 * Seal and open whole RMCP+ datagrams for a session: confidentiality then
 * integrity on the way out, integrity then confidentiality on the way in
 * (IPMI v2.0 §13.28: the AuthCode covers the encrypted payload).
 *
 * A session that negotiated integrity (or confidentiality) refuses packets
 * without it: a peer cannot downgrade a single message.
 *
 * `SessionCipher` is the per-session form (the AES key schedule is kept,
 * each datagram is written into one buffer); `sealIpmi2Packet` /
 * `openIpmi2Packet` are the one-shot form of the same code.
 */
import { type RandomBytes, readU16LE, readU32LE, requireBytes, writeU16LE, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { checkConfidentialityAlgorithm, ConfidentialityAlgorithm, IntegrityAlgorithm, type IntegrityAlgorithmInfo, integrityAlgorithmInfo } from './algorithms.js';
import { AES_BLOCK_BYTES, AesCbc128, aesKeyFromK2, confidentialPayloadLength } from './confidentiality.js';
import { decodeRmcpDatagram } from './datagram.js';
import { integrityTrailerLength, verifyIntegrityTrailer, writeIntegrityTrailer } from './integrity.js';
import { AuthType, PayloadType } from './payload-type.js';
import { RMCP_HEADER_BYTES, RMCP_SEQ_NO_ACK, RMCP_VERSION, RmcpClass } from './rmcp-header.js';
import { MAX_IPMI20_PAYLOAD } from './session-v20.js';
import { isU32 } from './ranges.js';

export interface SessionCrypto {
  integrityAlgorithm: number;
  confidentialityAlgorithm: number;
  /** Integrity key K1 (unused for integrity NONE). */
  k1: Uint8Array;
  /** K2; the AES key is its first 16 bytes (unused for confidentiality NONE). */
  k2: Uint8Array;
}

/** Outside a session (session id 0, Open Session and RAKP): no integrity, no confidentiality. */
export const NO_SESSION_CRYPTO: Readonly<SessionCrypto> = Object.freeze({
  integrityAlgorithm: IntegrityAlgorithm.NONE,
  confidentialityAlgorithm: ConfidentialityAlgorithm.NONE,
  k1: new Uint8Array(0),
  k2: new Uint8Array(0),
});

export interface Ipmi2Message {
  /** The receiver's session id (0 outside a session). */
  sessionId: number;
  sessionSeq: number;
  payloadType: number;
  payload: Uint8Array;
}

/** RMCP header (4) + auth type, payload type, session id, sequence, payload length (12). */
const HEADERS_BYTES = RMCP_HEADER_BYTES + 12;
const IPMI_CLASS_BYTE = RmcpClass.IPMI;

export class SessionCipher {
  private readonly integrity: IntegrityAlgorithmInfo | undefined;
  private readonly k1: Uint8Array;
  private readonly aes: AesCbc128 | undefined;

  /** Throws ERR_IPMI_UNSUPPORTED for algorithms without an implementation. */
  constructor(crypto: Readonly<SessionCrypto>) {
    checkConfidentialityAlgorithm(crypto.confidentialityAlgorithm);
    this.integrity = integrityAlgorithmInfo(crypto.integrityAlgorithm);
    this.k1 = crypto.k1;
    this.aes = crypto.confidentialityAlgorithm === ConfidentialityAlgorithm.AES_CBC_128 ? new AesCbc128(aesKeyFromK2(crypto.k2)) : undefined;
  }

  /** Forgets the key copies this object made (the caller owns k1 and k2). */
  dispose(): void {
    this.aes?.dispose();
  }

  /** Builds the whole datagram (RMCP header included) for `m`. */
  seal(m: Ipmi2Message, randomBytes: RandomBytes): Uint8Array {
    if (m.payloadType === PayloadType.OEM_EXPLICIT) throw new WireError('ERR_IPMI_UNSUPPORTED', 'OEM explicit payloads are not sealed here');
    if (!Number.isInteger(m.payloadType) || m.payloadType < 0 || m.payloadType > 0x3f) {
      throw new WireError('ERR_BAD_FIELD', `payload type ${m.payloadType} does not fit 6 bits`);
    }
    if (!isU32(m.sessionId) || !isU32(m.sessionSeq)) throw new WireError('ERR_BAD_FIELD', 'session id/seq must be u32');
    const aes = this.aes;
    const integrity = this.integrity;
    const payloadLength = aes ? confidentialPayloadLength(m.payload.length) : m.payload.length;
    if (payloadLength > MAX_IPMI20_PAYLOAD) throw new WireError('ERR_BAD_FIELD', 'payload longer than 65535 bytes');
    const unsignedEnd = HEADERS_BYTES + payloadLength;
    const total = integrity ? unsignedEnd + integrityTrailerLength(unsignedEnd - RMCP_HEADER_BYTES, integrity) : unsignedEnd;
    const out = new Uint8Array(total);
    out[0] = RMCP_VERSION;
    out[2] = RMCP_SEQ_NO_ACK;
    out[3] = IPMI_CLASS_BYTE;
    out[4] = AuthType.RMCP_PLUS;
    out[5] = (aes ? 0x80 : 0) | (integrity ? 0x40 : 0) | m.payloadType;
    writeU32LE(out, 6, m.sessionId);
    writeU32LE(out, 10, m.sessionSeq);
    writeU16LE(out, 14, payloadLength);
    if (aes) {
      const iv = randomBytes(AES_BLOCK_BYTES);
      if (iv.length !== AES_BLOCK_BYTES) throw new WireError('ERR_BAD_FIELD', 'randomBytes returned the wrong length');
      aes.encryptInto(iv, m.payload, out, HEADERS_BYTES);
    } else {
      out.set(m.payload, HEADERS_BYTES);
    }
    if (integrity) writeIntegrityTrailer(out.subarray(RMCP_HEADER_BYTES), unsignedEnd - RMCP_HEADER_BYTES, integrity, this.k1);
    return out;
  }

  /**
   * Verifies and decrypts a datagram received in a session. Throws WireError:
   * ERR_IPMI_NOT_PROTECTED (missing integrity/encryption the session requires),
   * ERR_IPMI_INTEGRITY (bad AuthCode), ERR_IPMI_PADDING, or a codec error.
   */
  open(datagram: Uint8Array): Ipmi2Message {
    const d = datagram;
    const plainShape =
      d.length >= HEADERS_BYTES &&
      d[0] === RMCP_VERSION &&
      d[1] === 0 &&
      d[2] === RMCP_SEQ_NO_ACK &&
      d[3] === IPMI_CLASS_BYTE &&
      d[4] === AuthType.RMCP_PLUS &&
      ((d[5] ?? 0) & 0x3f) !== PayloadType.OEM_EXPLICIT;
    // Anything else is an error; the general datagram decoder names it.
    if (!plainShape) refuseUnusualShape(d);
    const typeByte = d[5] ?? 0;
    const payloadType = typeByte & 0x3f;
    const encrypted = (typeByte & 0x80) !== 0;
    const authenticated = (typeByte & 0x40) !== 0;
    const sessionId = readU32LE(d, 6);
    const sessionSeq = readU32LE(d, 10);
    const length = readU16LE(d, 14);
    requireBytes(d, HEADERS_BYTES, length, 'ERR_TRUNCATED', 'IPMI 2.0 payload');
    const payloadEnd = HEADERS_BYTES + length;
    if (!authenticated && d.length > payloadEnd) throw new WireError('ERR_TRAILING_BYTES', 'bytes after the payload of an unauthenticated packet', payloadEnd);
    const integrity = this.integrity;
    if (integrity && !authenticated) throw new WireError('ERR_IPMI_NOT_PROTECTED', 'unauthenticated packet in a session with integrity', RMCP_HEADER_BYTES + 1);
    if (!integrity && authenticated) throw new WireError('ERR_IPMI_UNSUPPORTED', 'authenticated packet but no integrity algorithm negotiated', RMCP_HEADER_BYTES + 1);
    const aes = this.aes;
    if (aes && !encrypted) throw new WireError('ERR_IPMI_NOT_PROTECTED', 'unencrypted packet in a session with confidentiality', RMCP_HEADER_BYTES + 1);
    if (!aes && encrypted) throw new WireError('ERR_IPMI_UNSUPPORTED', 'encrypted packet but no confidentiality algorithm negotiated', RMCP_HEADER_BYTES + 1);
    if (integrity) verifyIntegrityTrailer(d.subarray(RMCP_HEADER_BYTES), payloadEnd - RMCP_HEADER_BYTES, integrity, this.k1);
    const body = d.subarray(HEADERS_BYTES, payloadEnd);
    const payload = aes ? aes.decrypt(body) : body.slice();
    return { sessionId, sessionSeq, payloadType, payload };
  }
}

/** Throws the error the general decoder gives for a datagram that is not a plain IPMI v2.0 one. */
function refuseUnusualShape(datagram: Uint8Array): never {
  const d = decodeRmcpDatagram(datagram);
  if (d.kind !== 'ipmi20') throw new WireError('ERR_BAD_FIELD', `expected an IPMI v2.0 packet, got ${d.kind}`, RMCP_HEADER_BYTES);
  if (d.session.oem) throw new WireError('ERR_IPMI_UNSUPPORTED', 'OEM explicit payloads are not supported', RMCP_HEADER_BYTES + 1);
  // The decoder accepted it, so one of the quick checks was stricter than it: keep refusing.
  throw new WireError('ERR_BAD_FIELD', 'unexpected IPMI v2.0 framing', 0);
}

/** Builds the whole datagram (RMCP header included) for `m` under `crypto`. */
export function sealIpmi2Packet(crypto: SessionCrypto, m: Ipmi2Message, randomBytes: RandomBytes): Uint8Array {
  if (m.payloadType === PayloadType.OEM_EXPLICIT) throw new WireError('ERR_IPMI_UNSUPPORTED', 'OEM explicit payloads are not sealed here');
  return new SessionCipher(crypto).seal(m, randomBytes);
}

/** One-shot SessionCipher.open. */
export function openIpmi2Packet(crypto: SessionCrypto, datagram: Uint8Array): Ipmi2Message {
  return new SessionCipher(crypto).open(datagram);
}
