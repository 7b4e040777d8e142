// Regression (found by the fault-injection suite): a status report or bare
// ack that never reached the manager left a hole its cumulative ack could
// not pass; with only 32 selective ids above it, every later result stayed
// unacknowledged and was retransmitted, and queue 2 drowned. The outbound
// queue now sends an empty body under such an id once the ack shows it.
import { randomBytes } from 'node:crypto';
import { Direction, EnvelopeKeys, InboundChannel, ReplayWindow } from '@backchannel/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboundQueue } from '../src/agent/outbound-queue.js';
import { AgentStore } from '../src/store/agent-store.js';

const stores: AgentStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function setup() {
  const store = new AgentStore(':memory:');
  stores.push(store);
  const keys = new EnvelopeKeys(new Uint8Array(32).fill(7), 'hv-01');
  const queue = new OutboundQueue({ store, keys, randomBytes: (n) => new Uint8Array(randomBytes(n)), retransmit: { initialTimeoutMs: 5_000, maxTimeoutMs: 60_000 }, currentAck: () => ({ cumulativeId: 0, selectiveIds: [] }) });
  // The manager's side of the channel: what it received, and what it acknowledges.
  const manager = new InboundChannel({ keys, receiveDirection: Direction.DIRECTION_TO_MANAGER });
  /** Puts every pending message "through the BMC"; `lose` ids never arrive. */
  const deliver = (now: number, lose: ReadonlySet<number> = new Set()) => {
    for (let m = queue.peek(now, 200); m; m = queue.peek(now, 200)) {
      queue.sent(m.messageId, now);
      if (lose.has(m.messageId)) continue;
      for (const r of m.records) manager.pushRecord(r, now);
    }
  };
  return { store, queue, manager, deliver };
}

describe('OutboundQueue fills holes left by lost untracked messages', () => {
  it('an empty body goes out under a lost status report id once the grace time passed, and the manager can ack everything again', () => {
    const { store, queue, manager, deliver } = setup();
    const t0 = 1_000_000;
    const report = queue.sendUntracked({ statusReport: { hostId: 'hv-01', reportSeq: 1 } });
    for (let i = 0; i < 40; i++) store.transaction(() => queue.sendTracked({ resync: { lastDeliveredId: i } }, t0));
    deliver(t0, new Set([report]));
    expect(manager.ack().cumulativeId).toBe(report - 1);
    expect(manager.ack().selectiveIds).toHaveLength(32);

    // Within the grace time the report may still sit in the queue: no filler yet.
    queue.acknowledge(manager.ack(), t0 + 1_000);
    expect(queue.peek(t0 + 1_000, 200)).toBeUndefined();
    expect(store.outboxIds()).toHaveLength(40 - 32);

    // Later the ack still stops below it: it was lost for good; fill it.
    queue.acknowledge(manager.ack(), t0 + 6_000);
    const filler = queue.peek(t0 + 6_000, 200);
    expect(filler?.messageId).toBe(report);
    deliver(t0 + 6_000);
    const ack = manager.ack();
    expect(ack.cumulativeId).toBe(store.peekNextMessageId() - 1);
    queue.acknowledge(ack, t0 + 6_000);
    expect(store.outboxIds()).toEqual([]);
  });

  it('never fills an id it still holds to resend, nor one the manager has', () => {
    const { store, queue } = setup();
    store.transaction(() => queue.sendTracked({ resync: { lastDeliveredId: 1 } }, 0));
    const w = new ReplayWindow(1024);
    queue.acknowledge({ cumulativeId: w.cumulative, selectiveIds: [] }, 60_000);
    // Id 1 is tracked and unacknowledged: retransmission brings it, not a filler.
    const next = queue.peek(60_000, 200);
    expect(next?.messageId).toBe(1);
    queue.sent(1, 60_000);
    queue.acknowledge({ cumulativeId: 1, selectiveIds: [] }, 120_000);
    expect(queue.peek(120_000, 200)).toBeUndefined();
  });
});
