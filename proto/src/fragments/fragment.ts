/**
 * Fragments: an envelope split into BMC queue records of at most
 * `max_record` bytes (PROTOCOL.md §2, default 200). Each record:
 *
 *   0     flags: high nibble = version (1); bit 0 = LAST
 *   1..4  message id, u32 LE (the envelope's id, mod 2^32)
 *   5..6  index, u16 LE (0 for the first record of a message)
 *   7..   payload (at least 1 byte)
 *
 * Overhead: 7 bytes per record; a message of n bytes takes
 * ceil(n / (max_record - 7)) records.
 */
import { readU16LE, readU32LE, writeU16LE, writeU32LE } from '../bytes.js';
import { WireError } from '../errors.js';

export const FRAGMENT_HEADER_BYTES = 7;
export const FRAGMENT_VERSION = 1;
export const FRAGMENT_FLAG_LAST = 0x01;
export const MIN_MAX_RECORD = 16;
export const MAX_FRAGMENTS = 0x10000;

export interface Fragment {
  messageId: number;
  index: number;
  last: boolean;
  payload: Uint8Array;
}

export function encodeFragment(fragment: Fragment): Uint8Array {
  const { messageId, index, last, payload } = fragment;
  if (!Number.isInteger(messageId) || messageId < 0 || messageId > 0xffffffff) throw new WireError('ERR_FRAGMENT_BAD_PARAMS', `message id ${messageId} is not a u32`);
  if (!Number.isInteger(index) || index < 0 || index > 0xffff) throw new WireError('ERR_FRAGMENT_BAD_PARAMS', `index ${index} is not a u16`);
  if (payload.length === 0) throw new WireError('ERR_FRAGMENT_BAD_PARAMS', 'fragment payload is empty');
  const out = new Uint8Array(FRAGMENT_HEADER_BYTES + payload.length);
  out[0] = (FRAGMENT_VERSION << 4) | (last ? FRAGMENT_FLAG_LAST : 0);
  writeU32LE(out, 1, messageId);
  writeU16LE(out, 5, index);
  out.set(payload, FRAGMENT_HEADER_BYTES);
  return out;
}

export function decodeFragment(record: Uint8Array): Fragment {
  if (record.length < FRAGMENT_HEADER_BYTES + 1) {
    throw new WireError('ERR_FRAGMENT_MALFORMED', `record of ${record.length} bytes is shorter than a fragment`, record.length);
  }
  const flags = record[0] ?? 0;
  if (flags >> 4 !== FRAGMENT_VERSION) throw new WireError('ERR_FRAGMENT_BAD_VERSION', `fragment version ${flags >> 4}`, 0);
  if ((flags & 0x0f & ~FRAGMENT_FLAG_LAST) !== 0) throw new WireError('ERR_FRAGMENT_MALFORMED', `reserved flag bits set: 0x${flags.toString(16)}`, 0);
  return {
    messageId: readU32LE(record, 1),
    index: readU16LE(record, 5),
    last: (flags & FRAGMENT_FLAG_LAST) !== 0,
    payload: record.subarray(FRAGMENT_HEADER_BYTES),
  };
}

/** Records needed for a message of `messageBytes` at `maxRecord`. */
export function fragmentCount(messageBytes: number, maxRecord: number): number {
  return Math.max(1, Math.ceil(messageBytes / (maxRecord - FRAGMENT_HEADER_BYTES)));
}

export function fragmentMessage(message: Uint8Array, messageId: number, maxRecord: number): Uint8Array[] {
  if (!Number.isInteger(maxRecord) || maxRecord < MIN_MAX_RECORD) {
    throw new WireError('ERR_FRAGMENT_BAD_PARAMS', `max_record must be at least ${MIN_MAX_RECORD}, got ${maxRecord}`);
  }
  if (message.length === 0) throw new WireError('ERR_FRAGMENT_BAD_PARAMS', 'cannot fragment an empty message');
  const chunk = maxRecord - FRAGMENT_HEADER_BYTES;
  const count = fragmentCount(message.length, maxRecord);
  if (count > MAX_FRAGMENTS) throw new WireError('ERR_FRAGMENT_TOO_LARGE', `message of ${message.length} bytes needs ${count} records, max ${MAX_FRAGMENTS}`);
  const records: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const payload = message.subarray(index * chunk, Math.min(message.length, (index + 1) * chunk));
    records.push(encodeFragment({ messageId: messageId >>> 0, index, last: index === count - 1, payload }));
  }
  return records;
}

interface PartialMessage {
  messageId: number;
  nextIndex: number;
  parts: Uint8Array[];
  /** The records as received (without repeats), so a reader can persist them. */
  records: Uint8Array[];
  bytes: number;
}

export interface ReassemblerOptions {
  /** Largest message accepted; a longer one is dropped with ERR_FRAGMENT_TOO_LARGE. */
  maxMessageBytes: number;
}

/**
 * Puts records back together. Records of one message arrive in order (the
 * BMC queue is FIFO and has a single producer per direction); a repeated
 * record is ignored, and anything else out of order drops the partial
 * message with an error the caller counts (the sender retransmits the
 * whole envelope, so nothing is lost for good).
 */
export class Reassembler {
  readonly #maxMessageBytes: number;
  #partial: PartialMessage | null = null;

  constructor(options: ReassemblerOptions) {
    this.#maxMessageBytes = options.maxMessageBytes;
  }

  /** True while a message has started and not finished. */
  get inProgress(): boolean {
    return this.#partial !== null;
  }

  /**
   * The records of the message in progress, in order (empty when none is). A
   * reader that releases records on the BMC before the message is complete
   * keeps these, and pushes them again after a restart.
   */
  get heldRecords(): readonly Uint8Array[] {
    return this.#partial?.records ?? [];
  }

  /** Feeds one record; returns the whole message when this record completes it. */
  push(record: Uint8Array): Uint8Array | undefined {
    const fragment = decodeFragment(record);
    const partial = this.#partial;
    if (fragment.index === 0) {
      // A new message (possibly a retransmission that restarts one we were building).
      this.#partial = null;
      return this.#append({ messageId: fragment.messageId, nextIndex: 0, parts: [], records: [], bytes: 0 }, fragment, record);
    }
    if (!partial) {
      throw new WireError('ERR_FRAGMENT_GAP', `fragment ${fragment.index} of message ${fragment.messageId} without its start`);
    }
    if (fragment.messageId !== partial.messageId) {
      this.#partial = null;
      throw new WireError('ERR_FRAGMENT_INTERLEAVED', `fragment of message ${fragment.messageId} inside message ${partial.messageId}`);
    }
    if (fragment.index === partial.nextIndex - 1) return undefined; // repeated record
    if (fragment.index !== partial.nextIndex) {
      this.#partial = null;
      throw new WireError('ERR_FRAGMENT_GAP', `message ${partial.messageId}: expected fragment ${partial.nextIndex}, got ${fragment.index}`);
    }
    return this.#append(partial, fragment, record);
  }

  /** Drops a partial message (e.g. after the BMC epoch changed). */
  reset(): void {
    this.#partial = null;
  }

  #append(partial: PartialMessage, fragment: Fragment, record: Uint8Array): Uint8Array | undefined {
    partial.bytes += fragment.payload.length;
    if (partial.bytes > this.#maxMessageBytes) {
      this.#partial = null;
      throw new WireError('ERR_FRAGMENT_TOO_LARGE', `message ${partial.messageId} exceeds ${this.#maxMessageBytes} bytes`);
    }
    partial.parts.push(Uint8Array.from(fragment.payload));
    partial.records.push(Uint8Array.from(record));
    partial.nextIndex = fragment.index + 1;
    if (!fragment.last) {
      this.#partial = partial;
      return undefined;
    }
    this.#partial = null;
    const out = new Uint8Array(partial.bytes);
    let at = 0;
    for (const part of partial.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
