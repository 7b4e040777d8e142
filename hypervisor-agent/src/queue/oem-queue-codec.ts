/**
 * The OEM buffer-queue commands (PROTOCOL.md §2) as the host side uses them:
 * request encoders and response decoders. Written against the normative bytes
 * while proto/src/oem is being filled in; same shape (pure, bounds-checked,
 * WireError with offsets) so switching to the shared codec is mechanical.
 */
import { readU16LE, readU32LE, requireBytes, WireError, writeU32LE } from '@backchannel/proto';

/** NetFn 0x2E (OEM/Group) requests, LUN 0. */
export const OEM_NETFN = 0x2e;
export const OEM_CMD = { getQueueInfo: 0x00, putRecord: 0x01, getRecord: 0x02, resetQueue: 0x03 } as const;
export const QUEUE = { toHost: 1, toManager: 2 } as const;
/** PEN 32473 (RFC 5612 documentation PEN), least-significant byte first. */
export const DEFAULT_IANA = 32473;

export const CC = {
  ok: 0x00,
  sequenceGap: 0x80,
  queueFull: 0xc4,
  badLength: 0xc7,
  invalidField: 0xcc,
  insufficientPrivilege: 0xd4,
  unknownCommand: 0xc1,
  unspecified: 0xff,
} as const;

export interface QueueInfo {
  queue: number;
  bmcEpoch: number;
  capacityBytes: number;
  usedBytes: number;
  depth: number;
  maxRecord: number;
  lastPutSeq: number;
  committedSeq: number;
}

export interface GetRecordResponse {
  committedSeq: number;
  depth: number;
  /** 0 when the queue is empty. */
  seq: number;
  record: Uint8Array;
}

function ianaBytes(iana: number): number[] {
  return [iana & 0xff, (iana >>> 8) & 0xff, (iana >>> 16) & 0xff];
}

export function encodeGetQueueInfo(iana: number, queue: number): Uint8Array {
  return new Uint8Array([...ianaBytes(iana), queue]);
}

export function encodePutRecord(iana: number, queue: number, seq: number, record: Uint8Array): Uint8Array {
  if (record.length < 1) throw new WireError('ERR_BAD_FIELD', 'Put Record needs at least one record byte');
  const out = new Uint8Array(8 + record.length);
  out.set(ianaBytes(iana), 0);
  out[3] = queue;
  writeU32LE(out, 4, seq);
  out.set(record, 8);
  return out;
}

export function encodeGetRecord(iana: number, queue: number, commitSeq: number): Uint8Array {
  const out = new Uint8Array(8);
  out.set(ianaBytes(iana), 0);
  out[3] = queue;
  writeU32LE(out, 4, commitSeq);
  return out;
}

/** Checks the IANA echo that follows the completion code (the caller strips cc). */
function checkIana(data: Uint8Array, iana: number): void {
  requireBytes(data, 0, 3, 'ERR_TRUNCATED', 'IANA');
  const got = (data[0] ?? 0) | ((data[1] ?? 0) << 8) | ((data[2] ?? 0) << 16);
  if (got !== iana) throw new WireError('ERR_BAD_FIELD', `response IANA ${got} is not ${iana}`, 0);
}

export function decodeQueueInfo(data: Uint8Array, iana: number): QueueInfo {
  checkIana(data, iana);
  requireBytes(data, 3, 25, 'ERR_TRUNCATED', 'Get Queue Info response');
  if (data.length > 28) throw new WireError('ERR_TRAILING_BYTES', `Get Queue Info response has ${data.length - 28} extra byte(s)`, 28);
  return {
    queue: data[3] ?? 0,
    bmcEpoch: readU32LE(data, 4),
    capacityBytes: readU32LE(data, 8),
    usedBytes: readU32LE(data, 12),
    depth: readU16LE(data, 16),
    maxRecord: readU16LE(data, 18),
    lastPutSeq: readU32LE(data, 20),
    committedSeq: readU32LE(data, 24),
  };
}

export function decodePutRecordResponse(data: Uint8Array, iana: number): { lastPutSeq: number } {
  checkIana(data, iana);
  requireBytes(data, 3, 4, 'ERR_TRUNCATED', 'Put Record response');
  if (data.length > 7) throw new WireError('ERR_TRAILING_BYTES', `Put Record response has ${data.length - 7} extra byte(s)`, 7);
  return { lastPutSeq: readU32LE(data, 3) };
}

export function decodeGetRecordResponse(data: Uint8Array, iana: number): GetRecordResponse {
  checkIana(data, iana);
  requireBytes(data, 3, 10, 'ERR_TRUNCATED', 'Get Record response');
  const seq = readU32LE(data, 9);
  const record = data.slice(13);
  if (seq === 0 && record.length > 0) throw new WireError('ERR_BAD_FIELD', 'empty-queue response carries record bytes', 13);
  if (seq !== 0 && record.length === 0) throw new WireError('ERR_TRUNCATED', `record ${seq} has no bytes`, 13);
  return { committedSeq: readU32LE(data, 3), depth: readU16LE(data, 7), seq, record };
}
