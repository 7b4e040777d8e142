/**
 * Streaming frame decoder for the VM protocol. Bytes arrive in arbitrary
 * chunks (TCP segments, serial reads); frames may be split across chunks and
 * the stream may carry garbage. The decoder un-escapes, splits on 0xA0/0xA1
 * and reports each frame or each discarded run, never throwing: a bad frame
 * is counted and dropped by the caller and the stream resynchronises at the
 * next terminator, as OpenIPMI's vm_handle_char does.
 */
import { VM_DEFAULT_MAX_FRAME_BYTES, VM_ESCAPE_BIT, VmChar } from './constants.js';

export type VmFrameEvent =
  | { kind: 'message'; payload: Uint8Array }
  | { kind: 'control'; payload: Uint8Array }
  /** A frame dropped before it could be parsed: it ended inside an escape, or grew past maxFrameBytes. */
  | { kind: 'discarded'; reason: 'escape-at-end' | 'too-long'; bytes: number };

export interface VmFrameDecoderOptions {
  /** Largest unescaped frame kept; longer ones are discarded whole. */
  maxFrameBytes?: number;
}

export class VmFrameDecoder {
  readonly #max: number;
  readonly #buf: Uint8Array;
  #len = 0;
  #inEscape = false;
  #tooLong = false;
  #skipped = 0;

  constructor(options: VmFrameDecoderOptions = {}) {
    this.#max = options.maxFrameBytes ?? VM_DEFAULT_MAX_FRAME_BYTES;
    this.#buf = new Uint8Array(this.#max);
  }

  /** Bytes of an unfinished frame held between chunks. */
  get pendingBytes(): number {
    return this.#len;
  }

  /** Forgets a partial frame (after a reconnect, say). */
  reset(): void {
    this.#len = 0;
    this.#inEscape = false;
    this.#tooLong = false;
    this.#skipped = 0;
  }

  push(chunk: Uint8Array): VmFrameEvent[] {
    const events: VmFrameEvent[] = [];
    for (const raw of chunk) {
      if (raw === VmChar.MessageEnd || raw === VmChar.ControlEnd) {
        if (this.#tooLong) {
          events.push({ kind: 'discarded', reason: 'too-long', bytes: this.#max + this.#skipped });
        } else if (this.#inEscape) {
          events.push({ kind: 'discarded', reason: 'escape-at-end', bytes: this.#len });
        } else if (this.#len > 0) {
          // Copy out: the buffer is reused for the next frame.
          const payload = this.#buf.slice(0, this.#len);
          events.push(raw === VmChar.MessageEnd ? { kind: 'message', payload } : { kind: 'control', payload });
        }
        // An empty frame (two terminators in a row) is a no-op, as in OpenIPMI.
        this.reset();
        continue;
      }
      if (raw === VmChar.Escape) {
        this.#inEscape = true;
        continue;
      }
      let b = raw;
      if (this.#inEscape) {
        b &= ~VM_ESCAPE_BIT;
        this.#inEscape = false;
      }
      if (this.#tooLong) {
        this.#skipped++;
        continue;
      }
      if (this.#len >= this.#max) {
        this.#tooLong = true;
        this.#skipped = 1;
        continue;
      }
      this.#buf[this.#len++] = b;
    }
    return events;
  }
}
