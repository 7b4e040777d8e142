/**
 * Response data of the four queue commands (PROTOCOL.md §2): the bytes
 * after the completion code. IANA first (LSB first), integers little-endian.
 *
 *   0x00  IANA[3] queue[1] bmc_epoch[4] capacity_bytes[4] used_bytes[4]
 *         depth[2] max_record[2] last_put_seq[4] committed_seq[4]
 *   0x01  IANA[3] last_put_seq[4]
 *   0x02  IANA[3] committed_seq[4] depth[2] seq[4] record[0..max_record]
 *   0x03  IANA[3] bmc_epoch[4]
 *
 * Errors (cc != 0) carry IANA[3] only, except Put Record's 0x80 (gap) and
 * 0xC4 (full), which carry the same body as success so the producer learns
 * last_put_seq without another round trip (docs/bmc-queues.md).
 */
import { readU16LE, readU32LE, writeU16LE, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';
import { GET_QUEUE_INFO_RESPONSE_BYTES, GET_RECORD_RESPONSE_HEADER_BYTES, IANA_BYTES } from './constants.js';
import { encodeIana, readIana } from './iana.js';

export interface QueueInfoResponse {
  iana: number;
  queue: number;
  bmcEpoch: number;
  capacityBytes: number;
  usedBytes: number;
  depth: number;
  maxRecord: number;
  lastPutSeq: number;
  committedSeq: number;
}
export interface PutRecordResponse {
  iana: number;
  lastPutSeq: number;
}
export interface GetRecordResponse {
  iana: number;
  committedSeq: number;
  depth: number;
  /** 0 when the queue is empty (then `record` is empty too). */
  seq: number;
  record: Uint8Array;
}
export interface ResetQueueResponse {
  iana: number;
  bmcEpoch: number;
}

function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new WireError('ERR_BAD_FIELD', `${what} ${value} is not a u32`);
  return value;
}
function u16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new WireError('ERR_BAD_FIELD', `${what} ${value} is not a u16`);
  return value;
}

function exactLength(data: Uint8Array, length: number, what: string): void {
  if (data.length < length) throw new WireError('ERR_TRUNCATED', `${what}: need ${length} bytes, have ${data.length}`, data.length);
  if (data.length > length) throw new WireError('ERR_TRAILING_BYTES', `${what}: ${data.length - length} byte(s) after the response`, length);
}

export function encodeQueueInfoResponse(r: QueueInfoResponse): Uint8Array {
  const out = new Uint8Array(GET_QUEUE_INFO_RESPONSE_BYTES);
  encodeIana(r.iana, out, 0);
  if (!Number.isInteger(r.queue) || r.queue < 0 || r.queue > 0xff) throw new WireError('ERR_BAD_FIELD', `queue ${r.queue} is not a u8`);
  out[3] = r.queue;
  writeU32LE(out, 4, u32(r.bmcEpoch, 'bmc_epoch'));
  writeU32LE(out, 8, u32(r.capacityBytes, 'capacity_bytes'));
  writeU32LE(out, 12, u32(r.usedBytes, 'used_bytes'));
  writeU16LE(out, 16, u16(r.depth, 'depth'));
  writeU16LE(out, 18, u16(r.maxRecord, 'max_record'));
  writeU32LE(out, 20, u32(r.lastPutSeq, 'last_put_seq'));
  writeU32LE(out, 24, u32(r.committedSeq, 'committed_seq'));
  return out;
}

export function decodeQueueInfoResponse(data: Uint8Array): QueueInfoResponse {
  exactLength(data, GET_QUEUE_INFO_RESPONSE_BYTES, 'Get Queue Info response');
  return {
    iana: readIana(data, 0),
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

// Put Record and Reset Queue answer the same shape: IANA[3] then one u32.
function encodeIanaU32(iana: number, value: number, field: string): Uint8Array {
  const out = new Uint8Array(IANA_BYTES + 4);
  encodeIana(iana, out, 0);
  writeU32LE(out, IANA_BYTES, u32(value, field));
  return out;
}

function decodeIanaU32(data: Uint8Array, what: string): { iana: number; value: number } {
  exactLength(data, IANA_BYTES + 4, what);
  return { iana: readIana(data, 0), value: readU32LE(data, IANA_BYTES) };
}

export function encodePutRecordResponse(r: PutRecordResponse): Uint8Array {
  return encodeIanaU32(r.iana, r.lastPutSeq, 'last_put_seq');
}

export function decodePutRecordResponse(data: Uint8Array): PutRecordResponse {
  const { iana, value } = decodeIanaU32(data, 'Put Record response');
  return { iana, lastPutSeq: value };
}

export function encodeGetRecordResponse(r: GetRecordResponse): Uint8Array {
  if (r.seq === 0 && r.record.length > 0) throw new WireError('ERR_BAD_FIELD', 'record bytes without a seq');
  if (r.seq !== 0 && r.record.length === 0) throw new WireError('ERR_BAD_FIELD', `record ${r.seq} is empty`);
  const out = new Uint8Array(GET_RECORD_RESPONSE_HEADER_BYTES + r.record.length);
  encodeIana(r.iana, out, 0);
  writeU32LE(out, 3, u32(r.committedSeq, 'committed_seq'));
  writeU16LE(out, 7, u16(r.depth, 'depth'));
  writeU32LE(out, 9, u32(r.seq, 'seq'));
  out.set(r.record, GET_RECORD_RESPONSE_HEADER_BYTES);
  return out;
}

export function decodeGetRecordResponse(data: Uint8Array): GetRecordResponse {
  if (data.length < GET_RECORD_RESPONSE_HEADER_BYTES) {
    throw new WireError('ERR_TRUNCATED', `Get Record response: need ${GET_RECORD_RESPONSE_HEADER_BYTES} bytes, have ${data.length}`, data.length);
  }
  const seq = readU32LE(data, 9);
  const record = data.slice(GET_RECORD_RESPONSE_HEADER_BYTES);
  if (seq === 0 && record.length > 0) throw new WireError('ERR_TRAILING_BYTES', 'record bytes after seq 0 (empty queue)', GET_RECORD_RESPONSE_HEADER_BYTES);
  if (seq !== 0 && record.length === 0) throw new WireError('ERR_TRUNCATED', `record ${seq} has no bytes`, GET_RECORD_RESPONSE_HEADER_BYTES);
  return { iana: readIana(data, 0), committedSeq: readU32LE(data, 3), depth: readU16LE(data, 7), seq, record };
}

export function encodeResetQueueResponse(r: ResetQueueResponse): Uint8Array {
  return encodeIanaU32(r.iana, r.bmcEpoch, 'bmc_epoch');
}

export function decodeResetQueueResponse(data: Uint8Array): ResetQueueResponse {
  const { iana, value } = decodeIanaU32(data, 'Reset Queue response');
  return { iana, bmcEpoch: value };
}

/** The body of an error response: the IANA alone. */
export function encodeOemErrorBody(iana: number): Uint8Array {
  const out = new Uint8Array(IANA_BYTES);
  encodeIana(iana, out, 0);
  return out;
}
