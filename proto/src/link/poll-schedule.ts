/**
 * When to read the queue again while nothing arrives: the floor right after
 * traffic, doubling on each empty turn up to the ceiling. A wake-up (work
 * queued locally, the BMC's attention signal) brings it back to the floor;
 * while a reply is expected (the manager just sent a request or a challenge
 * response, and queue 2 has no doorbell on the LAN side) it polls at the
 * reply interval until the reply window ends. Pure.
 */
export interface PollBounds {
  minMs: number;
  maxMs: number;
}

export class PollSchedule {
  readonly #bounds: PollBounds;
  #intervalMs: number;
  #replyUntilMs = 0;
  #replyPollMs: number;

  constructor(bounds: PollBounds, replyPollMs = bounds.minMs) {
    if (!(bounds.minMs > 0 && bounds.maxMs >= bounds.minMs)) throw new RangeError('poll bounds must satisfy 0 < minMs <= maxMs');
    this.#bounds = bounds;
    this.#intervalMs = bounds.minMs;
    this.#replyPollMs = replyPollMs;
  }

  get currentMs(): number {
    return this.#intervalMs;
  }

  /** Something moved: poll again at the floor. */
  traffic(): void {
    this.#intervalMs = this.#bounds.minMs;
  }

  /** Poll at the reply interval until `untilMs` (0: no reply is expected). The driver knows which replies are outstanding. */
  setReplyWindow(untilMs: number): void {
    this.#replyUntilMs = untilMs;
  }

  /** The wait after an empty turn; the next empty turn waits twice as long (up to the ceiling). */
  idle(nowMs: number): number {
    if (nowMs < this.#replyUntilMs) return Math.min(this.#replyPollMs, this.#intervalMs);
    const wait = this.#intervalMs;
    this.#intervalMs = Math.min(this.#bounds.maxMs, this.#intervalMs * 2);
    return wait;
  }
}
