/**
 * Frames on a byte stream that may carry noise (a getty, kernel messages,
 * a BMC's own banner, lost or flipped bits on a serial line or through SOL):
 *
 * ```
 * 0x00  COBS( payload ‖ CRC-32(payload), 4 bytes LE )  0x00
 * ```
 * The leading 0x00 ends whatever noise came before, so a frame is never
 * glued to garbage; the CRC-32 refuses every frame that noise, truncation
 * or bit flips changed (all 1-3 bit errors and all bursts up to 32 bits are
 * detected; anything else passes with probability 2^-32). A decoder drops
 * what fails and counts why; it never throws and never yields a frame
 * that was not sent.
 */
import { cobsDecode, cobsEncode } from './cobs.js';
import { crc32 } from './crc32.js';

export const FRAME_DELIMITER = 0x00;
const CRC_BYTES = 4;
/** Default upper bound on a frame's payload; a longer run without 0x00 is noise. */
export const DEFAULT_MAX_FRAME_PAYLOAD = 1024;

export function encodeSerialFrame(payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(payload.length + CRC_BYTES);
  body.set(payload, 0);
  const c = crc32(payload);
  body[payload.length] = c & 0xff;
  body[payload.length + 1] = (c >>> 8) & 0xff;
  body[payload.length + 2] = (c >>> 16) & 0xff;
  body[payload.length + 3] = (c >>> 24) & 0xff;
  const stuffed = cobsEncode(body);
  const out = new Uint8Array(stuffed.length + 2);
  out[0] = FRAME_DELIMITER;
  out.set(stuffed, 1);
  out[out.length - 1] = FRAME_DELIMITER;
  return out;
}

export interface FrameDecoderStats {
  frames: number;
  /** Blocks between delimiters that were not valid COBS (noise). */
  badEncoding: number;
  /** Blocks too short to hold a CRC. */
  short: number;
  /** Blocks whose CRC did not match (noise, truncation, bit flips). */
  badCrc: number;
  /** Runs longer than the largest frame without a delimiter (noise); skipped to the next 0x00. */
  oversize: number;
  /** Bytes thrown away for any of the reasons above. */
  droppedBytes: number;
}

export class SerialFrameDecoder {
  readonly stats: FrameDecoderStats = { frames: 0, badEncoding: 0, short: 0, badCrc: 0, oversize: 0, droppedBytes: 0 };
  readonly #maxEncoded: number;
  #buf: Uint8Array;
  #len = 0;
  /** In an over-long run: drop bytes until the next delimiter. */
  #skipping = false;

  constructor(maxPayload = DEFAULT_MAX_FRAME_PAYLOAD) {
    this.#maxEncoded = maxPayload + CRC_BYTES + Math.ceil((maxPayload + CRC_BYTES) / 254) + 1;
    this.#buf = new Uint8Array(this.#maxEncoded);
  }

  /** Feeds received bytes; returns the payloads of the frames they completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === FRAME_DELIMITER) {
        if (this.#skipping) this.#skipping = false;
        else if (this.#len > 0) {
          const f = this.#finish();
          if (f) frames.push(f);
        }
        this.#len = 0;
        continue;
      }
      if (this.#skipping) {
        this.stats.droppedBytes++;
        continue;
      }
      if (this.#len === this.#maxEncoded) {
        this.stats.oversize++;
        this.stats.droppedBytes += this.#len + 1;
        this.#len = 0;
        this.#skipping = true;
        continue;
      }
      this.#buf[this.#len++] = b;
    }
    return frames;
  }

  /** Bytes held of a frame not yet ended (for tests and diagnostics). */
  get pending(): number {
    return this.#len;
  }

  #finish(): Uint8Array | undefined {
    const body = cobsDecode(this.#buf.subarray(0, this.#len));
    if (!body) return this.#drop('badEncoding');
    if (body.length < CRC_BYTES) return this.#drop('short');
    const n = body.length - CRC_BYTES;
    const got = (body[n]! | (body[n + 1]! << 8) | (body[n + 2]! << 16) | (body[n + 3]! << 24)) >>> 0;
    if (got !== crc32(body, 0, n)) return this.#drop('badCrc');
    this.stats.frames++;
    return body.slice(0, n);
  }

  #drop(why: 'badEncoding' | 'short' | 'badCrc'): undefined {
    this.stats[why]++;
    this.stats.droppedBytes += this.#len;
    return undefined;
  }
}
