// Texts and helpers of the link guards (link/link-guards.ts).
import { describe, expect, it } from 'vitest';
import { clockSkewText, formatOffset, randomIncarnation } from '../../src/link/link-guards.js';

describe('link guards', () => {
  it('says how far the host clock is off, rounded the way a person reads it', () => {
    expect(formatOffset(75_400)).toBe('75 s');
    expect(formatOffset(-600_000)).toBe('10 min');
    expect(formatOffset(7_199_600)).toBe('2 h 0 min'); // the offset less a little transit delay
    expect(formatOffset(3_600_000 + 29 * 60_000 + 40_000)).toBe('1 h 30 min');
    expect(clockSkewText(-7_200_000, 15 * 60_000)).toMatch(/^the host's clock is 2 h 0 min behind the manager's, beyond the channel's tolerance of 15 min/);
  });

  it('draws a non-zero 48-bit incarnation', () => {
    expect(randomIncarnation((n) => new Uint8Array(n).fill(0xff))).toBe(2 ** 48 - 1);
    expect(randomIncarnation((n) => new Uint8Array(n))).toBe(1);
  });
});
