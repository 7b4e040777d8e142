/**
 * RMCP+ Open Session Request (payload 0x10) and Response (payload 0x11),
 * IPMI v2.0 §13.17-13.18:
 *
 *   request                               response
 *   0     message tag                     0     message tag
 *   1     requested max privilege (3:0)   1     RMCP+ status code (status-codes.ts)
 *   2..3  reserved                        2     maximum privilege granted (3:0)
 *   4..7  remote console session id LE    3     reserved
 *   8..15 authentication payload          4..7  remote console session id LE
 *   16..23 integrity payload              8..11 managed system session id LE
 *   24..31 confidentiality payload        12..35 the three algorithm payloads
 *
 * Algorithm payload: type (0 auth, 1 integrity, 2 confidentiality),
 * reserved[2], length 0x08, algorithm (5:0), reserved[3].
 * When the status is not 0 only the first 8 response bytes are meaningful;
 * a BMC may send just those.
 */
import { readU32LE, requireBytes, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { isByte, isU32 } from './ranges.js';

export interface OpenSessionRequest {
  messageTag: number;
  /** 0 = the highest level the user is allowed (§13.17). */
  requestedPrivilege: number;
  remoteConsoleSessionId: number;
  authAlgorithm: number;
  integrityAlgorithm: number;
  confidentialityAlgorithm: number;
}

export type OpenSessionResponse =
  | {
      messageTag: number;
      status: 0;
      maximumPrivilege: number;
      remoteConsoleSessionId: number;
      managedSystemSessionId: number;
      authAlgorithm: number;
      integrityAlgorithm: number;
      confidentialityAlgorithm: number;
    }
  | { messageTag: number; status: number; remoteConsoleSessionId: number };

const ALGORITHM_PAYLOAD_BYTES = 8;
export const OPEN_SESSION_REQUEST_BYTES = 32;
export const OPEN_SESSION_RESPONSE_BYTES = 36;
export const OPEN_SESSION_ERROR_BYTES = 8;

function writeAlgorithmPayload(out: Uint8Array, at: number, type: number, alg: number): void {
  if (!Number.isInteger(alg) || alg < 0 || alg > 0x3f) throw new WireError('ERR_BAD_FIELD', `algorithm ${alg} does not fit 6 bits`);
  out[at] = type;
  out[at + 3] = ALGORITHM_PAYLOAD_BYTES;
  out[at + 4] = alg;
}

function readAlgorithmPayload(buf: Uint8Array, at: number, type: number): number {
  if (buf[at] !== type) throw new WireError('ERR_BAD_FIELD', `algorithm payload type ${buf[at] ?? 0}, want ${type}`, at);
  if (buf[at + 3] !== ALGORITHM_PAYLOAD_BYTES) throw new WireError('ERR_BAD_FIELD', 'algorithm payload length is not 8', at + 3);
  return (buf[at + 4] ?? 0) & 0x3f;
}

function checkPrivilege(p: number): void {
  if (!Number.isInteger(p) || p < 0 || p > 0x0f) throw new WireError('ERR_BAD_FIELD', `privilege ${p} does not fit 4 bits`);
}

export function encodeOpenSessionRequest(m: OpenSessionRequest): Uint8Array {
  if (!isByte(m.messageTag) || !isU32(m.remoteConsoleSessionId)) throw new WireError('ERR_BAD_FIELD', 'message tag / session id out of range');
  checkPrivilege(m.requestedPrivilege);
  const out = new Uint8Array(OPEN_SESSION_REQUEST_BYTES);
  out[0] = m.messageTag;
  out[1] = m.requestedPrivilege;
  writeU32LE(out, 4, m.remoteConsoleSessionId);
  writeAlgorithmPayload(out, 8, 0, m.authAlgorithm);
  writeAlgorithmPayload(out, 16, 1, m.integrityAlgorithm);
  writeAlgorithmPayload(out, 24, 2, m.confidentialityAlgorithm);
  return out;
}

export function decodeOpenSessionRequest(buf: Uint8Array): OpenSessionRequest {
  requireBytes(buf, 0, OPEN_SESSION_REQUEST_BYTES, 'ERR_TRUNCATED', 'Open Session Request');
  if (buf.length !== OPEN_SESSION_REQUEST_BYTES) throw new WireError('ERR_TRAILING_BYTES', 'bytes after Open Session Request', OPEN_SESSION_REQUEST_BYTES);
  return {
    messageTag: buf[0] ?? 0,
    requestedPrivilege: (buf[1] ?? 0) & 0x0f,
    remoteConsoleSessionId: readU32LE(buf, 4),
    authAlgorithm: readAlgorithmPayload(buf, 8, 0),
    integrityAlgorithm: readAlgorithmPayload(buf, 16, 1),
    confidentialityAlgorithm: readAlgorithmPayload(buf, 24, 2),
  };
}

export function encodeOpenSessionResponse(m: OpenSessionResponse): Uint8Array {
  if (!isByte(m.messageTag) || !isByte(m.status) || !isU32(m.remoteConsoleSessionId)) throw new WireError('ERR_BAD_FIELD', 'Open Session Response field out of range');
  if (!('managedSystemSessionId' in m)) {
    if (m.status === 0) throw new WireError('ERR_BAD_FIELD', 'a successful Open Session Response needs the negotiated fields');
    const out = new Uint8Array(OPEN_SESSION_ERROR_BYTES);
    out[0] = m.messageTag;
    out[1] = m.status;
    writeU32LE(out, 4, m.remoteConsoleSessionId);
    return out;
  }
  checkPrivilege(m.maximumPrivilege);
  if (!isU32(m.managedSystemSessionId)) throw new WireError('ERR_BAD_FIELD', 'managed system session id out of range');
  const out = new Uint8Array(OPEN_SESSION_RESPONSE_BYTES);
  out[0] = m.messageTag;
  out[1] = 0;
  out[2] = m.maximumPrivilege;
  writeU32LE(out, 4, m.remoteConsoleSessionId);
  writeU32LE(out, 8, m.managedSystemSessionId);
  writeAlgorithmPayload(out, 12, 0, m.authAlgorithm);
  writeAlgorithmPayload(out, 20, 1, m.integrityAlgorithm);
  writeAlgorithmPayload(out, 28, 2, m.confidentialityAlgorithm);
  return out;
}

export function decodeOpenSessionResponse(buf: Uint8Array): OpenSessionResponse {
  requireBytes(buf, 0, 2, 'ERR_TRUNCATED', 'Open Session Response');
  const messageTag = buf[0] ?? 0;
  const status = buf[1] ?? 0;
  if (status !== 0) {
    // Error responses: the session id is optional and anything after it is not meaningful (§13.18).
    return { messageTag, status, remoteConsoleSessionId: buf.length >= 8 ? readU32LE(buf, 4) : 0 };
  }
  requireBytes(buf, 0, OPEN_SESSION_RESPONSE_BYTES, 'ERR_TRUNCATED', 'Open Session Response');
  if (buf.length !== OPEN_SESSION_RESPONSE_BYTES) throw new WireError('ERR_TRAILING_BYTES', 'bytes after Open Session Response', OPEN_SESSION_RESPONSE_BYTES);
  return {
    messageTag,
    status: 0,
    maximumPrivilege: (buf[2] ?? 0) & 0x0f,
    remoteConsoleSessionId: readU32LE(buf, 4),
    managedSystemSessionId: readU32LE(buf, 8),
    authAlgorithm: readAlgorithmPayload(buf, 12, 0),
    integrityAlgorithm: readAlgorithmPayload(buf, 20, 1),
    confidentialityAlgorithm: readAlgorithmPayload(buf, 28, 2),
  };
}
