/**
 * The peer's clock as this side learns it through the channel
 * (docs/protocol.md "Time"), and the time-step window a receiver opens
 * envelopes in.
 *
 * Every envelope's Body carries the sender's clock when it sealed it
 * (`sent_at_ms`, authenticated with the body). For a delivered envelope,
 * `sent_at_ms − now` is the peer's offset minus the time the message spent
 * in transit, so the largest sample of the last few minutes is the offset
 * with the least delay in it (the NTP "minimum delay" filter, one way).
 * Samples older than `windowMs` are dropped so a drifting or stepped clock
 * is followed; with no recent sample the last estimate stays.
 *
 * A sample's delay is unknown, so the estimate only falls on the word of a
 * *fresh* sample: one read soon after the queue was seen empty, so it waited
 * little. When every recent sample waited (a backlog drained after the
 * receiver was down, or behind a partition), the window's best is lower than
 * the truth by the queueing delay; following it would make the peer's next
 * fresh messages look far ahead of its clock. The estimate then holds until a
 * fresh sample comes (a stepped clock is still followed down: its next
 * messages are fresh).
 *
 * Only authenticated envelopes with a fresh message id feed samples: a
 * replayed or forged one cannot move the estimate.
 */
import type { EnvelopeKeys } from '../envelope/key-schedule.js';

export interface TimeTolerance {
  /**
   * Largest difference between the two clocks, beyond what the channel has
   * learned, that an envelope may show and still be opened: the skew a first
   * contact (or a stepped clock) may have. Beyond it the link reports
   * `clock_skew` with the measured offset.
   */
  maxSkewMs: number;
  /** How long an envelope may have waited (in a BMC queue, behind a busy agent) and still be delivered. */
  maxAgeMs: number;
}

/** 15 minutes each way: the 10-minute skew with margin, and an agent down for ten minutes. */
export const DEFAULT_TIME_TOLERANCE: TimeTolerance = Object.freeze({ maxSkewMs: 15 * 60_000, maxAgeMs: 15 * 60_000 });

export interface ClockOffsetState {
  /** Peer clock minus local clock (ms), null before the first sample. */
  offsetMs: number | null;
}

interface Sample {
  atMs: number;
  offsetMs: number;
  fresh: boolean;
}

export class ClockOffset {
  readonly #windowMs: number;
  readonly #samples: Sample[] = [];
  #estimate: number | null;
  /** The samples were forgotten (a restarted peer): the next one sets the estimate either way. */
  #forgotten = false;

  constructor(state?: ClockOffsetState, windowMs = 5 * 60_000) {
    this.#windowMs = windowMs;
    this.#estimate = state?.offsetMs ?? null;
  }

  /**
   * The peer sealed a delivered envelope at `peerSentAtMs` (its clock); it arrived at `nowMs` (ours).
   * `fresh`: it was read soon after the queue was seen empty, so its delay is small.
   */
  sample(peerSentAtMs: number, nowMs: number, fresh = true): void {
    if (!Number.isFinite(peerSentAtMs) || peerSentAtMs <= 0) return;
    this.#samples.push({ atMs: nowMs, offsetMs: peerSentAtMs - nowMs, fresh });
    // Bounded: the estimate needs only the recent best, not every message.
    while (this.#samples.length > 256 || (this.#samples.length > 1 && nowMs - (this.#samples[0]?.atMs ?? nowMs) > this.#windowMs)) {
      this.#samples.shift();
    }
    let best = Number.NEGATIVE_INFINITY;
    let anyFresh = false;
    for (const s of this.#samples) {
      if (s.offsetMs > best) best = s.offsetMs;
      anyFresh ||= s.fresh;
    }
    if (this.#estimate === null || best >= this.#estimate || anyFresh || this.#forgotten) this.#estimate = best;
    this.#forgotten = false;
  }

  /** The peer restarted (its clock may have been stepped): older samples no longer describe it. */
  forgetSamples(): void {
    this.#samples.length = 0;
    this.#forgotten = true;
  }

  /** Peer clock minus ours (ms), or null if nothing was learned yet. */
  get offsetMs(): number | null {
    return this.#estimate;
  }

  state(): ClockOffsetState {
    return { offsetMs: this.#estimate };
  }
}

/** The range of time steps a receiver opens at `nowMs`, given what it knows of the peer's clock. */
export function acceptedSteps(keys: EnvelopeKeys, nowMs: number, offsetMs: number | null, t: TimeTolerance): { lo: number; hi: number } {
  const peerNow = nowMs + (offsetMs ?? 0);
  return {
    lo: keys.stepAt(peerNow - t.maxAgeMs - t.maxSkewMs) - keys.skewSteps,
    hi: keys.stepAt(peerNow + t.maxSkewMs) + keys.skewSteps,
  };
}
