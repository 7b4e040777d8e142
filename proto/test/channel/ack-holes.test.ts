// unfillableHoles: which ids a peer lacks for good (lost untracked messages),
// so the sender fills them with empty bodies and the peer's cumulative ack
// moves on (found by the fault-injection suite: a lost status report froze
// vms-agent's cumulative ack and the agent retransmitted 600 delivered messages).
import { describe, expect, it } from 'vitest';
import { unfillableHoles } from '../../src/channel/ack-holes.js';
import { ReplayWindow } from '../../src/envelope/replay-window.js';

const base = { nextId: 100, willSend: () => false, sentAtMs: () => undefined, nowMs: 10_000, graceMs: 5_000 };

describe('unfillableHoles', () => {
  it('names the id above the cumulative point and the gaps below the highest selective id', () => {
    expect(unfillableHoles({ ...base, ack: { cumulativeId: 61, selectiveIds: [63, 64, 66] } })).toEqual([62, 65]);
    // Nothing selective: only the next id is known to be missing.
    expect(unfillableHoles({ ...base, ack: { cumulativeId: 61, selectiveIds: [] } })).toEqual([62]);
  });

  it('leaves what this side will still send, what was never allocated, and what went out within the grace time', () => {
    const willSend = (id: number) => id === 62;
    expect(unfillableHoles({ ...base, willSend, ack: { cumulativeId: 61, selectiveIds: [64] } })).toEqual([63]);
    expect(unfillableHoles({ ...base, nextId: 62, ack: { cumulativeId: 61, selectiveIds: [] } })).toEqual([]);
    const sentAtMs = (id: number) => (id === 62 ? 7_000 : id === 63 ? 4_000 : undefined);
    expect(unfillableHoles({ ...base, sentAtMs, ack: { cumulativeId: 61, selectiveIds: [64] } })).toEqual([63]);
  });

  it('is bounded', () => {
    expect(unfillableHoles({ ...base, limit: 3, ack: { cumulativeId: 0, selectiveIds: [90] } })).toEqual([1, 2, 3]);
  });

  it('filling the holes it names lets the receiver ack everything again', () => {
    // The receiver lost 5 (untracked) and got 1..40 otherwise; its ack stops at 4 with 32 selective ids.
    const w = new ReplayWindow(1024);
    for (let id = 1; id <= 40; id++) if (id !== 5) w.accept(id);
    const ack = { cumulativeId: w.cumulative, selectiveIds: w.selective(32) };
    expect(ack.cumulativeId).toBe(4);
    const holes = unfillableHoles({ ...base, nextId: 41, ack });
    expect(holes).toEqual([5]);
    for (const id of holes) w.accept(id);
    expect(w.cumulative).toBe(40);
  });
});
