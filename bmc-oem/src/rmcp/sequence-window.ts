/**
 * Inbound session sequence numbers of one RMCP+ session (IPMI v2.0
 * §6.12.13): a sliding window 32 wide, 16 numbers behind the highest
 * accepted one (each remembered, so a replay or a duplicate is refused) and
 * 16 ahead (so a few lost packets do not break the session). Zero is never a
 * valid in-session number, and numbers wrap modulo 2^32 skipping zero.
 *
 * `check` only classifies; `commit` records a number, and is called only
 * after the packet's integrity check passed, so forged packets cannot move
 * the window.
 */
export type SequenceVerdict = 'ok' | 'zero' | 'duplicate' | 'too-old' | 'too-far-ahead';

export const WINDOW_BEHIND = 16;
export const WINDOW_AHEAD = 16;

/** Forward distance from `from` to `to` on the ring 1..2^32-1 (zero skipped). */
function forward(from: number, to: number): number {
  let d = (to - from + 0x100000000) % 0x100000000;
  // Crossing the wrap skips zero, so one fewer step was taken.
  if (to < from && d > 0) d -= 1;
  return d;
}

export class SequenceWindow {
  /** Highest accepted number; 0 before the first packet (consoles start at 1). */
  private top = 0;
  /**
   * Bit i set ⇔ number (top - i) was accepted; bit 0 is `top` itself. It
   * starts all set so nothing "before" the first number is ever accepted.
   */
  private seen = 0xffffffff;

  constructor(
    private readonly behind = WINDOW_BEHIND,
    private readonly ahead = WINDOW_AHEAD,
  ) {
    if (behind < 1 || behind > 31 || ahead < 1) throw new RangeError('window must be 1..31 behind and ≥1 ahead');
  }

  /** A window whose last accepted number is `top` and nothing before it: for resuming and for tests near the wrap. */
  static startingAfter(top: number, behind = WINDOW_BEHIND, ahead = WINDOW_AHEAD): SequenceWindow {
    const w = new SequenceWindow(behind, ahead);
    w.top = top >>> 0;
    return w;
  }

  check(seq: number): SequenceVerdict {
    if (seq === 0) return 'zero';
    const ahead = forward(this.top, seq);
    if (ahead === 0) return 'duplicate';
    if (ahead <= this.ahead) return 'ok';
    const back = forward(seq, this.top);
    if (back < this.behind) return (this.seen >>> back) & 1 ? 'duplicate' : 'ok';
    // Far outside the window in either direction: treat as stale rather
    // than letting a packet resynchronise the window on its own.
    return back <= 0x7fffffff ? 'too-old' : 'too-far-ahead';
  }

  /** Records `seq` as received. Call only after `check(seq) === 'ok'` and a valid MAC. */
  commit(seq: number): void {
    const ahead = forward(this.top, seq);
    if (ahead > 0 && ahead <= this.ahead) {
      this.seen = ahead >= 32 ? 1 : ((this.seen << ahead) | 1) >>> 0;
      this.top = seq;
      return;
    }
    const back = forward(seq, this.top);
    if (back > 0 && back < this.behind) this.seen = (this.seen | (1 << back)) >>> 0;
  }

  get highest(): number {
    return this.top;
  }
}
