/**
 * The SOL payload (IPMI v2.0 §15.9, payload type 0x01): a 4-byte header and
 * character data. Sequence numbers are 4 bits (1..15, 0 = "no packet" /
 * "no ack"); the accepted character count tells the sender how much of the
 * acknowledged packet was taken; a NACK asks to resend the unaccepted rest.
 *
 * ```
 * 0  packet sequence number   bits 3:0 (0: ack-only packet, carries no data)
 * 1  ack/nack sequence number bits 3:0 (0: this packet acknowledges nothing)
 * 2  accepted character count
 * 3  operation (console → BMC) or status (BMC → console), bits below
 * 4… character data
 * ```
 * The reserved high nibbles of bytes 0 and 1 are ignored on decode (some
 * consoles leave garbage there) and written as zero.
 */
import { WireError } from '../errors.js';

/** Operation bits, console → BMC (§15.9 Table 15-2). */
export const SolOperation = {
  NACK: 0x40,
  RING_WOR: 0x20,
  GENERATE_BREAK: 0x10,
  DEASSERT_CTS: 0x08,
  DEASSERT_DCD_DSR: 0x04,
  FLUSH_INBOUND: 0x02,
  FLUSH_OUTBOUND: 0x01,
} as const;

/** Status bits, BMC → console (§15.9 Table 15-3). */
export const SolStatus = {
  NACK: 0x40,
  CHARACTER_TRANSFER_UNAVAILABLE: 0x20,
  SOL_DEACTIVATING: 0x10,
  TRANSMIT_OVERRUN: 0x08,
  BREAK_DETECTED: 0x04,
} as const;

export const SOL_HEADER_BYTES = 4;

export interface SolPacket {
  /** 1..15, or 0 for a packet that only acknowledges. */
  seq: number;
  /** The peer's packet this one acknowledges (1..15), or 0. */
  ackSeq: number;
  /** Characters of the acknowledged packet accepted (0 when ackSeq is 0). */
  acceptedCount: number;
  /** Operation (to the BMC) or status (from the BMC) bits; NACK is bit 6 in both. */
  flags: number;
  data: Uint8Array;
}

export function encodeSolPacket(p: SolPacket): Uint8Array {
  if (!Number.isInteger(p.seq) || p.seq < 0 || p.seq > 15) throw new WireError('ERR_BAD_FIELD', `SOL packet sequence ${p.seq} outside 0..15`);
  if (!Number.isInteger(p.ackSeq) || p.ackSeq < 0 || p.ackSeq > 15) throw new WireError('ERR_BAD_FIELD', `SOL ack sequence ${p.ackSeq} outside 0..15`);
  if (!Number.isInteger(p.acceptedCount) || p.acceptedCount < 0 || p.acceptedCount > 255) throw new WireError('ERR_BAD_FIELD', `SOL accepted count ${p.acceptedCount} outside 0..255`);
  if (!Number.isInteger(p.flags) || p.flags < 0 || p.flags > 0x7f) throw new WireError('ERR_BAD_FIELD', `SOL operation/status 0x${p.flags.toString(16)} outside 0..0x7f`);
  if (p.seq === 0 && p.data.length > 0) throw new WireError('ERR_BAD_FIELD', 'a SOL packet with data needs a sequence number');
  const out = new Uint8Array(SOL_HEADER_BYTES + p.data.length);
  out[0] = p.seq;
  out[1] = p.ackSeq;
  out[2] = p.acceptedCount;
  out[3] = p.flags;
  out.set(p.data, SOL_HEADER_BYTES);
  return out;
}

export function decodeSolPacket(buf: Uint8Array): SolPacket {
  if (buf.length < SOL_HEADER_BYTES) throw new WireError('ERR_TRUNCATED', `SOL packet of ${buf.length} bytes (header is 4)`, buf.length);
  const seq = buf[0]! & 0x0f;
  const data = buf.slice(SOL_HEADER_BYTES);
  // Data without a sequence number could never be acknowledged: refuse rather than guess.
  if (seq === 0 && data.length > 0) throw new WireError('ERR_BAD_FIELD', 'SOL packet with data but sequence number 0', 0);
  return { seq, ackSeq: buf[1]! & 0x0f, acceptedCount: buf[2]!, flags: buf[3]! & 0x7f, data };
}

/** The next SOL sequence number after `seq` (1..15, wrapping, never 0). */
export function nextSolSeq(seq: number): number {
  return seq >= 15 ? 1 : seq + 1;
}
