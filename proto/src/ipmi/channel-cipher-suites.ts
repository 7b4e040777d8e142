/**
 * Get Channel Cipher Suites (NetFn App 0x54), IPMI v2.0 §22.15, Table 22-18.
 * Request data:
 *
 *   0  channel (3:0; 0x0E = this one)
 *   1  payload type (0x00 IPMI)
 *   2  bit 7: list algorithms by cipher suite (1) or supported algorithms (0);
 *      bits 5:0 list index: which 16-byte slice of the record data to return
 *
 * Response data: channel number, then 0..16 bytes of record data
 * (cipher-suites.ts). A slice shorter than 16 bytes is the last one.
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { ipmiDeviations, type DeviationSink } from './deviations.js';

export const CIPHER_SUITE_SLICE_BYTES = 16;
export const MAX_CIPHER_SUITE_LIST_INDEX = 0x3f;

export interface ChannelCipherSuitesRequest {
  channel: number;
  payloadType: number;
  listBySuite: boolean;
  listIndex: number;
}

export interface ChannelCipherSuitesResponse {
  channel: number;
  recordData: Uint8Array;
}

export function encodeChannelCipherSuitesRequest(m: ChannelCipherSuitesRequest): Uint8Array {
  if (!Number.isInteger(m.channel) || m.channel < 0 || m.channel > 0x0f) throw new WireError('ERR_BAD_FIELD', 'channel does not fit 4 bits');
  if (!Number.isInteger(m.payloadType) || m.payloadType < 0 || m.payloadType > 0x3f) throw new WireError('ERR_BAD_FIELD', 'payload type does not fit 6 bits');
  if (!Number.isInteger(m.listIndex) || m.listIndex < 0 || m.listIndex > MAX_CIPHER_SUITE_LIST_INDEX) throw new WireError('ERR_BAD_FIELD', 'list index does not fit 6 bits');
  return new Uint8Array([m.channel, m.payloadType, (m.listBySuite ? 0x80 : 0) | m.listIndex]);
}

export function decodeChannelCipherSuitesRequest(buf: Uint8Array): ChannelCipherSuitesRequest {
  requireBytes(buf, 0, 3, 'ERR_TRUNCATED', 'Get Channel Cipher Suites request');
  if (buf.length !== 3) throw new WireError('ERR_TRAILING_BYTES', 'bytes after Get Channel Cipher Suites request', 3);
  const b2 = buf[2] ?? 0;
  return { channel: (buf[0] ?? 0) & 0x0f, payloadType: (buf[1] ?? 0) & 0x3f, listBySuite: (b2 & 0x80) !== 0, listIndex: b2 & 0x3f };
}

export function encodeChannelCipherSuitesResponse(m: ChannelCipherSuitesResponse): Uint8Array {
  if (!Number.isInteger(m.channel) || m.channel < 0 || m.channel > 0x0f) throw new WireError('ERR_BAD_FIELD', 'channel does not fit 4 bits');
  if (m.recordData.length > CIPHER_SUITE_SLICE_BYTES) throw new WireError('ERR_BAD_FIELD', 'more than 16 bytes of record data');
  const out = new Uint8Array(1 + m.recordData.length);
  out[0] = m.channel;
  out.set(m.recordData, 1);
  return out;
}

/** Decodes a slice of cipher suite records; more than 16 bytes of record data is a deviation: the first 16 are kept. */
export function decodeChannelCipherSuitesResponse(buf: Uint8Array, onDeviation: DeviationSink = ipmiDeviations.sink): ChannelCipherSuitesResponse {
  requireBytes(buf, 0, 1, 'ERR_TRUNCATED', 'Get Channel Cipher Suites response');
  if (buf.length > 1 + CIPHER_SUITE_SLICE_BYTES) onDeviation({ message: 'Get Channel Cipher Suites', kind: 'long', length: buf.length });
  return { channel: (buf[0] ?? 0) & 0x0f, recordData: buf.slice(1, 1 + CIPHER_SUITE_SLICE_BYTES) };
}

/** The 16-byte slice a BMC returns for `listIndex` of its whole record data (empty past the end). */
export function cipherSuiteSlice(allRecords: Uint8Array, listIndex: number): Uint8Array {
  const from = listIndex * CIPHER_SUITE_SLICE_BYTES;
  return allRecords.slice(Math.min(from, allRecords.length), Math.min(from + CIPHER_SUITE_SLICE_BYTES, allRecords.length));
}
