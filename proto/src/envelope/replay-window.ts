/**
 * Duplicate suppression for one sender's message ids: a high-water mark plus
 * a bitmap of the `size` ids at and below it (the IPsec anti-replay window,
 * RFC 4303 §3.4.3), and the cumulative point every id at or below which has
 * been seen, which is what the receiver acknowledges.
 *
 * Ids that fall below the window are reported `too-old` and never delivered:
 * the sender keeps at most `size` unacknowledged messages, so a live message
 * never gets there. The state is plain data so it can be persisted.
 */
export type ReplayVerdict = 'fresh' | 'duplicate' | 'too-old';

export interface ReplayWindowState {
  /** Highest id accepted; 0 before the first. */
  highest: number;
  /** Every id <= cumulative has been accepted (or given up on). */
  cumulative: number;
  /** Bit (id % size) set when id, within (highest - size, highest], was accepted. */
  bitmap: Uint8Array;
  size: number;
}

export const DEFAULT_REPLAY_WINDOW = 1024;

export class ReplayWindow {
  readonly size: number;
  #highest: number;
  #cumulative: number;
  readonly #bits: Uint8Array;

  constructor(size = DEFAULT_REPLAY_WINDOW, state?: ReplayWindowState) {
    if (!Number.isInteger(size) || size < 8 || size % 8 !== 0) throw new RangeError('window size must be a multiple of 8, at least 8');
    this.size = size;
    this.#bits = new Uint8Array(size / 8);
    this.#highest = 0;
    this.#cumulative = 0;
    if (state) {
      if (state.size !== size || state.bitmap.length !== size / 8) throw new RangeError('replay window state has a different size');
      if (!(state.cumulative <= state.highest && state.highest - state.cumulative <= size)) throw new RangeError('inconsistent replay window state');
      this.#bits.set(state.bitmap);
      this.#highest = state.highest;
      this.#cumulative = state.cumulative;
    }
  }

  get highest(): number {
    return this.#highest;
  }

  /** Every message id at or below this has been delivered: the cumulative ack. */
  get cumulative(): number {
    return this.#cumulative;
  }

  check(id: number): ReplayVerdict {
    if (!Number.isSafeInteger(id) || id < 1) return 'too-old';
    if (id <= this.#cumulative) return 'duplicate';
    if (id > this.#highest) return 'fresh';
    if (id <= this.#highest - this.size) return 'too-old';
    return this.#isSet(id) ? 'duplicate' : 'fresh';
  }

  /** Records `id` if fresh; returns whether it was. */
  accept(id: number): boolean {
    if (this.check(id) !== 'fresh') return false;
    if (id > this.#highest) {
      const shift = id - this.#highest;
      if (shift >= this.size) this.#bits.fill(0);
      else for (let i = this.#highest + 1; i <= id; i++) this.#clear(i);
      this.#highest = id;
    }
    this.#set(id);
    // Ids that fell out of the window without being seen are given up on.
    if (this.#cumulative < this.#highest - this.size) this.#cumulative = this.#highest - this.size;
    while (this.#cumulative < this.#highest && this.#isSet(this.#cumulative + 1)) this.#cumulative++;
    return true;
  }

  /**
   * Skips ahead: every id <= `id` counts as seen. Used when the sender says
   * (Hello) that it will never send ids below `id + 1` again.
   */
  advanceTo(id: number): void {
    if (id <= this.#cumulative) return;
    if (id >= this.#highest) {
      this.#bits.fill(0);
      this.#highest = id;
      this.#cumulative = id;
      this.#set(id);
      return;
    }
    for (let i = this.#cumulative + 1; i <= id; i++) this.#set(i);
    this.#cumulative = id;
    while (this.#cumulative < this.#highest && this.#isSet(this.#cumulative + 1)) this.#cumulative++;
  }

  /**
   * Starts over below `id`: every id <= `id` counts as seen, every id above
   * it is fresh again. Only for a peer that provably started a new life with
   * lower ids (an authenticated Hello of an unseen incarnation, its store
   * restored from an older copy): forgetting ids is what a replay needs, so
   * nothing else may call this.
   */
  rewindTo(id: number): void {
    this.#bits.fill(0);
    this.#highest = Math.max(0, id);
    this.#cumulative = this.#highest;
    if (this.#highest > 0) this.#set(this.#highest);
  }

  /** Accepted ids above the cumulative point (the selective part of an Ack). */
  selective(limit = 64): number[] {
    const out: number[] = [];
    for (let id = this.#cumulative + 2; id <= this.#highest && out.length < limit; id++) if (this.#isSet(id)) out.push(id);
    return out;
  }

  snapshot(): ReplayWindowState {
    return { highest: this.#highest, cumulative: this.#cumulative, bitmap: Uint8Array.from(this.#bits), size: this.size };
  }

  #isSet(id: number): boolean {
    const bit = id % this.size;
    return ((this.#bits[bit >>> 3] ?? 0) & (1 << (bit & 7))) !== 0;
  }

  #set(id: number): void {
    const bit = id % this.size;
    this.#bits[bit >>> 3] = (this.#bits[bit >>> 3] ?? 0) | (1 << (bit & 7));
  }

  #clear(id: number): void {
    const bit = id % this.size;
    this.#bits[bit >>> 3] = (this.#bits[bit >>> 3] ?? 0) & ~(1 << (bit & 7));
  }
}
