/**
 * Exponential back-off with full jitter (the AWS architecture blog's "full
 * jitter"), pure: the random source is a parameter so tests are exact. Used
 * by the link core for reconnects and for a full queue (cc 0xC4).
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
    if (!(policy.initialMs > 0 && policy.maxMs >= policy.initialMs)) throw new RangeError('back-off bounds must satisfy 0 < initialMs <= maxMs');
    this.#policy = policy;
    this.#random = random;
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt: uniform in [initialMs/2, ceiling), the ceiling doubling per call up to maxMs. */
  next(): number {
    const ceiling = Math.min(this.#policy.maxMs, this.#policy.initialMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.max(this.#policy.initialMs / 2, Math.floor(ceiling * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
