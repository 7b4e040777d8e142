import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Action, ackIsForUs, Direction, EnvelopeKeys, InboundChannel, RetransmitTracker, sealRecords } from '../src/index.js';

const SEED = new Uint8Array(32).fill(0x42);
const NOW = Date.UTC(2026, 10, 21, 8, 0, 0);
const rng = (n: number) => new Uint8Array(randomBytes(n));
const managerKeys = new EnvelopeKeys(SEED, 'hv-07');
const hostKeys = new EnvelopeKeys(SEED, 'hv-07');
const out = { keys: managerKeys, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: 64, randomBytes: rng };

function request(n: number) {
  return { commandRequest: { requestId: `req-${n}`, principal: 'alice', action: Action.ACTION_START, domain: `vm-${n}`, hostId: 'hv-07' } };
}

describe('channel: sealRecords + InboundChannel', () => {
  it('delivers each message once, in records no larger than max_record', () => {
    const inbound = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
    const delivered: string[] = [];
    for (let id = 1; id <= 5; id++) {
      const records = sealRecords(out, id, request(id), NOW);
      expect(records.length).toBeGreaterThan(1);
      for (const rec of records) {
        expect(rec.length).toBeLessThanOrEqual(64);
        const ev = inbound.pushRecord(rec, NOW);
        if (ev?.kind === 'delivered') delivered.push(ev.body.commandRequest?.requestId ?? '');
      }
    }
    expect(delivered).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-5']);
    expect(inbound.ack()).toEqual({ cumulativeId: 5, selectiveIds: [], incarnation: 0 });
  });

  it('reports a retransmitted message as duplicate, even re-sealed later', () => {
    const inbound = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
    const events = [...sealRecords(out, 1, request(1), NOW), ...sealRecords(out, 1, request(1), NOW + 20_000)].map((r) =>
      inbound.pushRecord(r, NOW + 20_000),
    );
    expect(events.filter((e) => e?.kind === 'delivered')).toHaveLength(1);
    expect(events.find((e) => e?.kind === 'delivered')).toMatchObject({ sentAtMs: NOW });
    expect(events.filter((e) => e?.kind === 'duplicate')).toEqual([{ kind: 'duplicate', messageId: 1 }]);
  });

  it('turns failures into rejected events with codes (for alerts), never throws', () => {
    const inbound = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
    // An envelope older than the step window is authenticated and reported late, not rejected (channel/time.test.ts).
    const stale = sealRecords(out, 1, request(1), NOW - 60 * 60_000);
    const last = stale.map((r) => inbound.pushRecord(r, NOW)).at(-1);
    expect(last).toMatchObject({ kind: 'late', messageId: 1, reason: 'waited' });
    const wrongSeed = sealRecords({ ...out, keys: new EnvelopeKeys(new Uint8Array(32).fill(1), 'hv-07') }, 2, request(2), NOW);
    expect(wrongSeed.map((r) => inbound.pushRecord(r, NOW)).at(-1)).toMatchObject({ kind: 'rejected', code: 'ERR_ENVELOPE_TAMPERED' });
    expect(inbound.pushRecord(new Uint8Array([0x10, 1, 0, 0, 0, 5, 0, 1]), NOW)).toMatchObject({ kind: 'rejected', code: 'ERR_FRAGMENT_GAP' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (junk) => {
        const ev = inbound.pushRecord(junk, NOW);
        expect(ev === undefined || ev.kind === 'rejected').toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('restores its window from persisted state, so a restart does not re-deliver', () => {
    const first = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
    for (const r of sealRecords(out, 1, request(1), NOW)) first.pushRecord(r, NOW);
    const second = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST, window: first.windowState() });
    expect(sealRecords(out, 1, request(1), NOW).map((r) => second.pushRecord(r, NOW)).at(-1)).toEqual({ kind: 'duplicate', messageId: 1 });
    expect(sealRecords(out, 2, request(2), NOW).map((r) => second.pushRecord(r, NOW)).at(-1)?.kind).toBe('delivered');
  });

  it('ignores envelopes sent in its own direction (a reflected message)', () => {
    const inbound = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
    const reflected = sealRecords({ ...out, sendDirection: Direction.DIRECTION_TO_MANAGER }, 1, request(1), NOW);
    expect(reflected.map((r) => inbound.pushRecord(r, NOW)).at(-1)).toMatchObject({ kind: 'rejected', code: 'ERR_ENVELOPE_WRONG_DIRECTION' });
  });
});

describe('RetransmitTracker', () => {
  it('resends after the timeout with exponential back-off until acknowledged', () => {
    const t = new RetransmitTracker({ initialTimeoutMs: 1000, maxTimeoutMs: 3000 });
    t.track(1, 0);
    t.track(2, 0);
    expect(t.due(999)).toEqual([]);
    expect(t.due(1000)).toEqual([1, 2]);
    t.track(1, 1000);
    expect(t.attempts(1)).toBe(2);
    expect(t.due(2999)).toEqual([2]); // 1 now waits 2000 ms
    expect(t.due(3000)).toEqual([1, 2]);
    t.track(1, 3000);
    t.track(1, 6000);
    expect(t.due(8999)).toEqual([2]); // capped at 3000 ms
    expect(t.due(9000)).toEqual([1, 2]);
  });

  it('applies cumulative and selective acks', () => {
    const t = new RetransmitTracker();
    for (const id of [1, 2, 3, 4, 5]) t.track(id, 0);
    expect(t.ack({ cumulativeId: 2, selectiveIds: [4] })).toEqual([1, 2, 4]);
    expect(t.unacked()).toEqual([3, 5]);
    expect(t.ack(undefined)).toEqual([]);
    t.expireAll();
    expect(t.due(0)).toEqual([3, 5]);
    expect(t.size).toBe(2);
  });
});

describe('acks scoped to the sender incarnation (docs/protocol.md "Incarnations")', () => {
  it("an ack names the peer's latest incarnation seen in a Hello, 0 before any", () => {
    const inbound = new InboundChannel({ keys: hostKeys, receiveDirection: Direction.DIRECTION_TO_HOST });
    expect(inbound.ack().incarnation).toBe(0);
    const hello = (incarnation: number, id: number) => sealRecords(out, id, { hello: { role: 1, hostId: 'hv-07', incarnation, lastDeliveredId: 0, nextMessageId: id, firstUnackedId: id } }, NOW);
    for (const rec of hello(0x1111, 1)) inbound.pushRecord(rec, NOW);
    expect(inbound.ack().incarnation).toBe(0x1111);
    // A restored manager: a new incarnation numbering from 1 again.
    for (const rec of hello(0x2222, 1)) inbound.pushRecord(rec, NOW);
    expect(inbound.ack().incarnation).toBe(0x2222);
  });

  it('ackIsForUs: ours or unnamed (no Hello seen yet, an older peer) release; another incarnation never does', () => {
    expect(ackIsForUs({ cumulativeId: 3, selectiveIds: [], incarnation: 7 }, 7)).toBe(true);
    expect(ackIsForUs({ cumulativeId: 3, selectiveIds: [], incarnation: 0 }, 7)).toBe(true);
    expect(ackIsForUs({ cumulativeId: 3, selectiveIds: [] }, 7)).toBe(true);
    expect(ackIsForUs({ cumulativeId: 3, selectiveIds: [], incarnation: 6 }, 7)).toBe(false);
    expect(ackIsForUs({ cumulativeId: 3, selectiveIds: [], incarnation: 6 }, undefined)).toBe(false);
  });
});
