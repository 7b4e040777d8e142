/**
 * Seal and open whole RMCP+ datagrams for a session: confidentiality then
 * integrity on the way out, integrity then confidentiality on the way in
 * (IPMI v2.0 §13.28: the AuthCode covers the encrypted payload).
 *
 * A session that negotiated integrity (or confidentiality) refuses packets
 * without it: a peer cannot downgrade a single message.
 */
import { type RandomBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { checkConfidentialityAlgorithm, ConfidentialityAlgorithm, IntegrityAlgorithm, integrityAlgorithmInfo } from './algorithms.js';
import { aesKeyFromK2, decryptAesCbc128, sealConfidential } from './confidentiality.js';
import { decodeRmcpDatagram } from './datagram.js';
import { appendIntegrityTrailer, verifyIntegrityTrailer } from './integrity.js';
import { PayloadType } from './payload-type.js';
import { encodeRmcpHeader, IPMI_RMCP_HEADER, RMCP_HEADER_BYTES } from './rmcp-header.js';
import { encodeIpmi20Session, ipmi20HeaderLength } from './session-v20.js';
import { concatBytes } from '../bytes.js';

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

/** Builds the whole datagram (RMCP header included) for `m` under `crypto`. */
export function sealIpmi2Packet(crypto: SessionCrypto, m: Ipmi2Message, randomBytes: RandomBytes): Uint8Array {
  if (m.payloadType === PayloadType.OEM_EXPLICIT) throw new WireError('ERR_IPMI_UNSUPPORTED', 'OEM explicit payloads are not sealed here');
  checkConfidentialityAlgorithm(crypto.confidentialityAlgorithm);
  const integrity = integrityAlgorithmInfo(crypto.integrityAlgorithm);
  const encrypted = crypto.confidentialityAlgorithm === ConfidentialityAlgorithm.AES_CBC_128;
  const payload = encrypted ? sealConfidential(aesKeyFromK2(crypto.k2), m.payload, randomBytes) : m.payload;
  const unsigned = encodeIpmi20Session({
    payloadType: m.payloadType,
    encrypted,
    authenticated: integrity !== undefined,
    sessionId: m.sessionId,
    sessionSeq: m.sessionSeq,
    payload,
    trailer: new Uint8Array(0),
  });
  const session = integrity ? appendIntegrityTrailer(unsigned, integrity, crypto.k1) : unsigned;
  return concatBytes([encodeRmcpHeader(IPMI_RMCP_HEADER), session]);
}

/**
 * Verifies and decrypts a datagram received in a session. Throws WireError:
 * ERR_IPMI_NOT_PROTECTED (missing integrity/encryption the session requires),
 * ERR_IPMI_INTEGRITY (bad AuthCode), ERR_IPMI_PADDING, or a codec error.
 */
export function openIpmi2Packet(crypto: SessionCrypto, datagram: Uint8Array): Ipmi2Message {
  const d = decodeRmcpDatagram(datagram);
  if (d.kind !== 'ipmi20') throw new WireError('ERR_BAD_FIELD', `expected an IPMI v2.0 packet, got ${d.kind}`, RMCP_HEADER_BYTES);
  const s = d.session;
  if (s.oem) throw new WireError('ERR_IPMI_UNSUPPORTED', 'OEM explicit payloads are not supported', RMCP_HEADER_BYTES + 1);
  checkConfidentialityAlgorithm(crypto.confidentialityAlgorithm);
  const integrity = integrityAlgorithmInfo(crypto.integrityAlgorithm);
  if (integrity && !s.authenticated) throw new WireError('ERR_IPMI_NOT_PROTECTED', 'unauthenticated packet in a session with integrity', RMCP_HEADER_BYTES + 1);
  if (!integrity && s.authenticated) throw new WireError('ERR_IPMI_UNSUPPORTED', 'authenticated packet but no integrity algorithm negotiated', RMCP_HEADER_BYTES + 1);
  const wantEncrypted = crypto.confidentialityAlgorithm === ConfidentialityAlgorithm.AES_CBC_128;
  if (wantEncrypted && !s.encrypted) throw new WireError('ERR_IPMI_NOT_PROTECTED', 'unencrypted packet in a session with confidentiality', RMCP_HEADER_BYTES + 1);
  if (!wantEncrypted && s.encrypted) throw new WireError('ERR_IPMI_UNSUPPORTED', 'encrypted packet but no confidentiality algorithm negotiated', RMCP_HEADER_BYTES + 1);
  if (integrity) {
    const session = datagram.subarray(RMCP_HEADER_BYTES);
    verifyIntegrityTrailer(session, ipmi20HeaderLength(s.payloadType) + s.payload.length, integrity, crypto.k1);
  }
  const payload = wantEncrypted ? decryptAesCbc128(aesKeyFromK2(crypto.k2), s.payload) : s.payload;
  return { sessionId: s.sessionId, sessionSeq: s.sessionSeq, payloadType: s.payloadType, payload };
}
