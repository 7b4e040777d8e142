/**
 * Session management commands sent inside an RMCP+ session:
 *
 *   Set Session Privilege Level (App 0x3B, §22.18)
 *     request  0: privilege (3:0; 0 = no change, return the present level)
 *     response 0: new privilege (3:0)
 *   Close Session (App 0x3C, §22.19)
 *     request  0..3: session id (the BMC's, LE); 4: session handle, only when the id is 0
 *     response (no data)
 */
import { readU32LE, requireBytes, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { isByte, isU32 } from './ranges.js';

export function encodeSetSessionPrivilegeRequest(privilege: number): Uint8Array {
  if (!Number.isInteger(privilege) || privilege < 0 || privilege > 0x0f) throw new WireError('ERR_BAD_FIELD', 'privilege does not fit 4 bits');
  return new Uint8Array([privilege]);
}

export function decodeSetSessionPrivilegeRequest(buf: Uint8Array): number {
  requireBytes(buf, 0, 1, 'ERR_TRUNCATED', 'Set Session Privilege Level request');
  if (buf.length !== 1) throw new WireError('ERR_TRAILING_BYTES', 'bytes after Set Session Privilege Level request', 1);
  return (buf[0] ?? 0) & 0x0f;
}

/** The response carries the same single privilege byte. */
export const encodeSetSessionPrivilegeResponse = encodeSetSessionPrivilegeRequest;
export const decodeSetSessionPrivilegeResponse = decodeSetSessionPrivilegeRequest;

export interface CloseSessionRequest {
  sessionId: number;
  /** Only meaningful (and only sent) when sessionId is 0. */
  sessionHandle?: number;
}

export function encodeCloseSessionRequest(m: CloseSessionRequest): Uint8Array {
  if (!isU32(m.sessionId)) throw new WireError('ERR_BAD_FIELD', 'session id must be u32');
  if (m.sessionHandle !== undefined && (m.sessionId !== 0 || !isByte(m.sessionHandle))) {
    throw new WireError('ERR_BAD_FIELD', 'a session handle goes only with session id 0 and must be a byte');
  }
  const out = new Uint8Array(m.sessionHandle === undefined ? 4 : 5);
  writeU32LE(out, 0, m.sessionId);
  if (m.sessionHandle !== undefined) out[4] = m.sessionHandle;
  return out;
}

export function decodeCloseSessionRequest(buf: Uint8Array): CloseSessionRequest {
  requireBytes(buf, 0, 4, 'ERR_TRUNCATED', 'Close Session request');
  const sessionId = readU32LE(buf, 0);
  if (buf.length === 5 && sessionId === 0) return { sessionId, sessionHandle: buf[4] ?? 0 };
  if (buf.length !== 4) throw new WireError('ERR_TRAILING_BYTES', 'bytes after Close Session request', 4);
  return { sessionId };
}
