/**
 * Exponential back-off with full jitter (the AWS architecture blog's
 * "full jitter"), pure: the random source is a parameter so tests are exact.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #attempt = 0;

  constructor(policy: BackoffPolicy, random: () => number) {
    this.#policy = policy;
    this.#random = random;
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call doubles the ceiling up to maxMs. */
  next(): number {
    const ceiling = Math.min(this.#policy.maxMs, this.#policy.initialMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.max(this.#policy.initialMs / 2, Math.floor(ceiling * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/**
 * Adaptive polling of queue 2: the fastest interval while records flow,
 * doubling while idle up to the slowest. A wake-up (something queued
 * locally) always brings it back to the fastest.
 */
export class PollSchedule {
  readonly #minMs: number;
  readonly #maxMs: number;
  #current: number;

  constructor(minMs: number, maxMs: number) {
    if (!(minMs > 0 && maxMs >= minMs)) throw new RangeError('poll bounds must satisfy 0 < min <= max');
    this.#minMs = minMs;
    this.#maxMs = maxMs;
    this.#current = minMs;
  }

  /** Interval before the next poll, given whether the last cycle moved anything. */
  next(busy: boolean): number {
    this.#current = busy ? this.#minMs : Math.min(this.#maxMs, this.#current * 2);
    return this.#current;
  }

  reset(): void {
    this.#current = this.#minMs;
  }
}
