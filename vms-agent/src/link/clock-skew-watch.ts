/**
 * What an authentic envelope from the host outside the step window means for
 * the link (docs/protocol.md "Time"). One that may only have waited in the
 * queue is counted (the host sends it again); one held back and replayed is
 * reported as such; otherwise the clocks are apart beyond tolerance, which is
 * the link state `clock_skew` with the measured offset, never a silent stall.
 */
import type { InboundEvent } from '@backchannel/proto';
import { clockSkewText } from './link-guards.js';

export type Untimely = Extract<InboundEvent, { kind: 'late' | 'ahead' }>;

export type SkewVerdict =
  | { kind: 'waited'; code: string }
  | { kind: 'held-back'; code: string }
  | { kind: 'skew'; code: string; offsetMs: number; text: string };

export class ClockSkewWatch {
  readonly #maxSkewMs: number;
  #offsetMs: number | null = null;

  constructor(maxSkewMs: number) {
    this.#maxSkewMs = maxSkewMs;
  }

  /** The host's clock offset as last measured beyond tolerance (null before). */
  get offsetMs(): number | null {
    return this.#offsetMs;
  }

  /** `skewed`: the link is in `clock_skew` already (the estimate then keeps the sample with the least delay). */
  judge(ev: Untimely, nowMs: number, skewed: boolean): SkewVerdict {
    const code = ev.kind === 'ahead' ? 'clock_ahead' : `late_${ev.reason.replace('-', '_')}`;
    if (ev.kind === 'late' && ev.reason === 'waited') return { kind: 'waited', code };
    if (ev.kind === 'late' && ev.reason === 'held-back') return { kind: 'held-back', code };
    const offsetMs = ev.kind === 'ahead' ? ev.offsetMs : ev.sentAtMs - nowMs;
    // Each sample is the offset less its message's transit time: keep the one with the least delay.
    this.#offsetMs = skewed && this.#offsetMs !== null ? Math.max(this.#offsetMs, offsetMs) : offsetMs;
    return { kind: 'skew', code, offsetMs: this.#offsetMs, text: clockSkewText(this.#offsetMs, this.#maxSkewMs) };
  }
}
