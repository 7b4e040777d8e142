// The small pieces of a host link: the wakeable sleep, the fast-poll reply waits, the clock-skew verdicts.
import { describe, expect, it } from 'vitest';
import { ClockSkewWatch } from '../../src/link/clock-skew-watch.js';
import { ReplyWaits } from '../../src/link/reply-waits.js';
import { WakeableSleep } from '../../src/link/wakeable-sleep.js';

describe('WakeableSleep', () => {
  it('a wake ends the current sleep; one while busy ends the next sleep at once', async () => {
    const s = new WakeableSleep();
    // Each sleep is a minute: the test ends within vitest's 5 s only if the wakes end them.
    const sleeping = s.sleep(60_000);
    s.wake();
    await sleeping;
    s.wake(); // nobody sleeping: kept
    await expect(s.sleep(60_000)).resolves.toBeUndefined();
  });

  it('interrupt ends only a current sleep and leaves nothing pending; a stopped sleep returns at once', async () => {
    const s = new WakeableSleep();
    s.interrupt();
    let ended = false;
    const p = s.sleep(20).then(() => (ended = true));
    await new Promise((r) => setImmediate(r));
    expect(ended).toBe(false);
    await p;
    await s.sleep(60_000, true);
  });
});

describe('ReplyWaits', () => {
  it('the window ends at the latest awaited reply; a reply or its time running out removes it', () => {
    const w = new ReplyWaits();
    expect(w.windowEnd(0)).toBe(0);
    w.expect('a', 2_000);
    w.expect('b', 3_000);
    expect(w.windowEnd(1_000)).toBe(3_000);
    expect(w.settle('b')).toBe(true);
    expect(w.settle('b')).toBe(false);
    expect(w.windowEnd(1_000)).toBe(2_000);
    expect(w.windowEnd(2_000)).toBe(0);
  });
});

describe('ClockSkewWatch', () => {
  const late = (reason: 'waited' | 'clock' | 'held-back', sentAtMs: number) => ({ kind: 'late' as const, messageId: 5, sentAtMs, ageMs: 1, reason });

  it('a message that only waited, or one held back, is no clock verdict', () => {
    const w = new ClockSkewWatch(15 * 60_000);
    expect(w.judge(late('waited', 0), 1_000_000, false)).toEqual({ kind: 'waited', code: 'late_waited' });
    expect(w.judge(late('held-back', 0), 1_000_000, false)).toEqual({ kind: 'held-back', code: 'late_held_back' });
    expect(w.offsetMs).toBeNull();
  });

  it('beyond tolerance: the offset, and while skewed the sample with the least delay', () => {
    const w = new ClockSkewWatch(15 * 60_000);
    const now = 10_000_000;
    expect(w.judge({ kind: 'ahead', messageId: 1, sentAtMs: now + 20 * 60_000, offsetMs: 20 * 60_000 }, now, false)).toMatchObject({ kind: 'skew', code: 'clock_ahead', offsetMs: 20 * 60_000 });
    expect(w.judge({ kind: 'ahead', messageId: 2, sentAtMs: now + 19 * 60_000, offsetMs: 19 * 60_000 }, now, true)).toMatchObject({ offsetMs: 20 * 60_000 });
    const behind = w.judge(late('clock', now - 30 * 60_000), now, false);
    expect(behind).toMatchObject({ kind: 'skew', code: 'late_clock', offsetMs: -30 * 60_000 });
    expect(behind.kind === 'skew' && behind.text).toMatch(/30 min behind the manager's, beyond the channel's tolerance of 15 min/);
  });
});
