/**
 * How long to wait before the next Get Record: the floor while records keep
 * arriving, doubling on each empty read up to the ceiling. Attention (ATN)
 * and outbound work bypass the wait entirely (the engine wakes early); this
 * only decides the idle cadence. Pure.
 */
export interface PollBounds {
  minMs: number;
  maxMs: number;
}

export class PollSchedule {
  readonly #bounds: PollBounds;
  #intervalMs: number;

  constructor(bounds: PollBounds) {
    if (!(bounds.minMs > 0 && bounds.maxMs >= bounds.minMs)) throw new RangeError('poll bounds need 0 < minMs <= maxMs');
    this.#bounds = bounds;
    this.#intervalMs = bounds.minMs;
  }

  /** A record came in (or went out): poll again at the floor. */
  traffic(): void {
    this.#intervalMs = this.#bounds.minMs;
  }

  /** Returns the wait after an empty read and backs off for the next one. */
  idle(): number {
    const wait = this.#intervalMs;
    this.#intervalMs = Math.min(this.#bounds.maxMs, this.#intervalMs * 2);
    return wait;
  }

  get currentMs(): number {
    return this.#intervalMs;
  }
}
