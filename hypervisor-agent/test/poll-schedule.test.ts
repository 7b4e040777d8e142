import { describe, expect, it } from 'vitest';
import { PollSchedule } from '../src/queue/poll-schedule.js';

describe('PollSchedule', () => {
  it('backs off to the ceiling when idle and snaps back on traffic', () => {
    const s = new PollSchedule({ minMs: 10, maxMs: 75 });
    expect([s.idle(), s.idle(), s.idle(), s.idle(), s.idle()]).toEqual([10, 20, 40, 75, 75]);
    s.traffic();
    expect(s.idle()).toBe(10);
  });
});
