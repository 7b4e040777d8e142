/**
 * How long to wait for a BMC's answer before sending again: RFC 6298's
 * retransmission timer, per session, pure (times are passed in).
 *
 * - The first round trip measured sets SRTT = R, RTTVAR = R/2; each later one
 *   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT − R|, SRTT = 7/8 SRTT + 1/8 R (§2.2, §2.3).
 * - RTO = SRTT + max(G, 4 RTTVAR), G = 1 ms (Node's timer granularity), kept
 *   within [minRtoMs, maxRtoMs]. Before any measurement RTO = initialRtoMs.
 * - Karn's rule (§3): only an answer to a message sent once is measured: an
 *   answer to a retransmitted one may belong to any of its copies.
 * - Back-off (§5.5): each timeout doubles the RTO (up to maxRtoMs) until the
 *   next measurement. Several requests that time out in the same round double
 *   it once, not once each (`backOff` takes the back-off level they were sent at).
 * - One change to §5.5, for a thin stream: the first LINEAR_RETRANSMISSIONS
 *   resends of a message wait the same RTO; only later ones back off
 *   (`timedOut`). A host link has one request in flight at a time; under
 *   random loss (36% of exchanges at 20% each way) doubling from the first
 *   timeout more than doubles what a lost exchange costs on average (1.29 RTO
 *   instead of 0.56), and nothing is gained: a few datagrams a second are no
 *   congestion. Linux does the same for thin TCP streams
 *   (`tcp_thin_linear_timeouts`, 6 linear retransmissions). A BMC that is
 *   really slower than the RTO still gets its back-off (the 4th timeout of a
 *   request doubles it, and it stays doubled until an unambiguous answer,
 *   per Karn), so the estimate still catches up with a longer round trip.
 *
 * RFC 6298's 1 s minimum and 60 s maximum are for TCP across the Internet
 * (delayed acks, coarse timers, congestion); a BMC answers from the same LAN
 * within milliseconds, and under random loss a long RTO only adds latency
 * (docs/rmcp.md "Retransmission").
 */
export interface RtoBounds {
  /** RTO before the first round trip is measured (RFC 6298 §2.1: 1 s). */
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
}

export const DEFAULT_RTO_BOUNDS: RtoBounds = Object.freeze({ initialRtoMs: 1000, minRtoMs: 20, maxRtoMs: 500 });

/** Clock granularity G: timers fire at whole milliseconds at best. */
const GRANULARITY_MS = 1;
/** Resends of one message at the same RTO before it backs off (a thin stream; see above). */
export const LINEAR_RETRANSMISSIONS = 3;
/** 2^6 = 64× the base RTO is already past any sensible maxRtoMs. */
const MAX_BACKOFF_LEVEL = 6;

export interface RttSnapshot {
  srttMs: number | undefined;
  rttvarMs: number | undefined;
  /** The RTO a message sent now waits for, back-off included. */
  rtoMs: number;
  backoffLevel: number;
  samples: number;
}

export class RttEstimator {
  readonly bounds: RtoBounds;
  #srtt: number | undefined;
  #rttvar: number | undefined;
  #baseRto: number;
  #backoff = 0;
  #samples = 0;

  constructor(bounds: Partial<RtoBounds> = {}) {
    this.bounds = { ...DEFAULT_RTO_BOUNDS, ...bounds };
    const { initialRtoMs, minRtoMs, maxRtoMs } = this.bounds;
    if (!(minRtoMs >= GRANULARITY_MS && maxRtoMs >= minRtoMs && initialRtoMs >= GRANULARITY_MS)) {
      throw new RangeError(`RTO bounds must satisfy 1 <= minRtoMs (${minRtoMs}) <= maxRtoMs (${maxRtoMs}) and initialRtoMs (${initialRtoMs}) >= 1`);
    }
    this.#baseRto = initialRtoMs;
  }

  /** The wait for a message sent now. */
  get rtoMs(): number {
    if (this.#backoff === 0) return this.#baseRto;
    // Backing off never shortens the wait (an initial RTO above maxRtoMs stays), and never lengthens it past maxRtoMs.
    return Math.max(this.#baseRto, Math.min(this.bounds.maxRtoMs, this.#baseRto * 2 ** this.#backoff));
  }

  get backoffLevel(): number {
    return this.#backoff;
  }

  /** A round trip measured on a message sent exactly once (Karn). */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.#srtt === undefined || this.#rttvar === undefined) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    this.#samples++;
    this.#baseRto = clamp(this.#srtt + Math.max(GRANULARITY_MS, 4 * this.#rttvar), this.bounds.minRtoMs, this.bounds.maxRtoMs);
    this.#backoff = 0;
  }

  /**
   * A message sent `sends` times, the last at back-off level `sentAtLevel`,
   * went unanswered for its RTO. Returns the level to send it at again:
   * unchanged for the first LINEAR_RETRANSMISSIONS timeouts, then one more
   * doubling each time.
   */
  timedOut(sends: number, sentAtLevel: number): number {
    if (sends <= LINEAR_RETRANSMISSIONS) return Math.max(this.#backoff, sentAtLevel);
    return this.backOff(sentAtLevel);
  }

  /**
   * A message sent at back-off level `sentAtLevel` went unanswered for its RTO:
   * the next transmissions wait twice as long. Returns the level to send at now.
   */
  backOff(sentAtLevel: number): number {
    this.#backoff = Math.min(MAX_BACKOFF_LEVEL, Math.max(this.#backoff, sentAtLevel + 1));
    return this.#backoff;
  }

  snapshot(): RttSnapshot {
    return { srttMs: this.#srtt, rttvarMs: this.#rttvar, rtoMs: this.rtoMs, backoffLevel: this.#backoff, samples: this.#samples };
  }
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, v));
}
