/**
 * Time and incarnations in the inbound channel, with a fake clock: skew and
 * drift do not stop the channel, benign delay is not an attack, a restored
 * peer is resynchronised instead of being dropped as duplicates.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Action, acceptedSteps, ClockOffset, Direction, EnvelopeKeys, InboundChannel, sealRecords, type Body } from '../../src/index.js';

const SEED = new Uint8Array(32).fill(0x42);
const NOW = Date.UTC(2026, 11, 3, 6, 0, 0);
const MIN = 60_000;
const keys = new EnvelopeKeys(SEED, 'hv-07');
const rng = (n: number) => new Uint8Array(randomBytes(n));
const out = { keys, sendDirection: Direction.DIRECTION_TO_HOST, maxRecord: 200, randomBytes: rng };
const inbound = (peer?: { offsetMs: number | null; incarnations: number[] }) =>
  new InboundChannel({ keys, receiveDirection: Direction.DIRECTION_TO_HOST, ...(peer ? { peer } : {}) });
const req = (n: number): Body => ({ commandRequest: { requestId: `r${n}`, principal: 'alice', action: Action.ACTION_START, domain: 'vm', hostId: 'hv-07' } });
const push = (ch: InboundChannel, id: number, body: Body, sealAtMs: number, nowMs: number) =>
  sealRecords(out, id, body, sealAtMs).map((r) => ch.pushRecord(r, nowMs)).at(-1);

describe('clock offset', () => {
  it('takes the sample with the least delay in it, and follows a drifting clock', () => {
    const c = new ClockOffset(undefined, 5 * MIN);
    expect(c.offsetMs).toBeNull();
    c.sample(NOW + 75_000 - 40, NOW); // 75 s ahead, 40 ms in transit
    c.sample(NOW + 1000 + 75_000 - 900, NOW + 1000); // waited 900 ms
    expect(c.offsetMs).toBe(75_000 - 40);
    // Ten minutes later the old samples are gone: a drift of 100 ppm (+60 ms) shows.
    c.sample(NOW + 10 * MIN + 75_060 - 40, NOW + 10 * MIN);
    expect(c.offsetMs).toBe(75_060 - 40);
    expect(new ClockOffset(c.state()).offsetMs).toBe(75_020);
  });

  it('falls only on a fresh sample: a backlog that waited in the queue does not drag the estimate down', () => {
    const c = new ClockOffset(undefined, 5 * MIN);
    c.sample(NOW - 575_000 - 30, NOW); // the peer is 575 s behind; a prompt message
    // The reader was down: for the next ten minutes every message read had waited 20-30 minutes.
    for (let m = 6; m <= 16; m++) c.sample(NOW + m * MIN - 575_000 - 25 * MIN, NOW + m * MIN, false);
    expect(c.offsetMs).toBe(-575_030);
    // Fresh again (read right after the queue was seen empty): a clock stepped back 3 s is followed down.
    c.sample(NOW + 17 * MIN - 578_000 - 40, NOW + 17 * MIN, true);
    expect(c.offsetMs).toBe(-578_040);
  });

  it('opens a window of steps around the peer clock', () => {
    const t = { maxSkewMs: 15 * MIN, maxAgeMs: 15 * MIN };
    const { lo, hi } = acceptedSteps(keys, NOW, 10 * MIN, t);
    expect(hi).toBe(keys.stepAt(NOW + 25 * MIN) + 1);
    expect(lo).toBe(keys.stepAt(NOW - 20 * MIN) - 1);
  });
});

describe('inbound channel: time', () => {
  for (const skewMs of [75_000, 10 * MIN, -10 * MIN]) {
    it(`delivers from a peer whose clock is ${skewMs / 1000} s off, and learns the offset`, () => {
      const ch = inbound();
      const ev = push(ch, 1, req(1), NOW + skewMs, NOW);
      expect(ev).toMatchObject({ kind: 'delivered', messageId: 1 });
      expect(ch.clockOffsetMs).toBe(skewMs);
      // A week of 100 ppm drift later (60 s more), still delivered: the window follows the offset.
      for (let day = 1; day <= 7; day++) {
        const now = NOW + day * 86_400_000;
        expect(push(ch, 1 + day, req(1 + day), now + skewMs + day * 8_640, now)?.kind).toBe('delivered');
      }
      expect(ch.clockOffsetMs).toBe(skewMs + 60_480);
    });
  }

  it('reports a peer ahead beyond tolerance as `ahead` with the measured offset, delivering nothing', () => {
    const ch = inbound();
    expect(push(ch, 1, req(1), NOW + 2 * 3_600_000, NOW)).toMatchObject({ kind: 'ahead', messageId: 1, offsetMs: 2 * 3_600_000 });
    expect(ch.ack().cumulativeId).toBe(0);
    expect(ch.clockOffsetMs).toBeNull();
  });

  it('delivers a message that waited ten minutes in the queue', () => {
    const ch = inbound({ offsetMs: 0, incarnations: [] });
    ch.sawEmptyQueue(NOW - 11 * MIN);
    expect(push(ch, 1, req(1), NOW - 10 * MIN, NOW)?.kind).toBe('delivered');
  });

  it('calls an old message that may have waited `waited`, one the peer clock explains `clock`, and one held back `held-back`', () => {
    const ch = inbound({ offsetMs: 0, incarnations: [] });
    // Agent down for two hours: the backlog is older than the window, nothing says it did not wait.
    expect(push(ch, 1, req(1), NOW - 2 * 3_600_000, NOW)).toMatchObject({ kind: 'late', reason: 'waited' });
    expect(push(ch, 1, req(1), NOW, NOW)?.kind).toBe('delivered'); // the sender's retransmission, re-sealed
    ch.sawEmptyQueue(NOW + 1000);
    // Sealed an hour before the queue was seen empty, newer than anything delivered: the peer's clock.
    expect(push(ch, 2, req(2), NOW - 3_600_000, NOW + 2000)).toMatchObject({ kind: 'late', reason: 'clock' });
    // Id 3 delivered, then id 2 (never delivered) shows up sealed an hour ago: someone held it back.
    expect(push(ch, 3, req(3), NOW + 2000, NOW + 2000)?.kind).toBe('delivered');
    expect(push(ch, 2, req(2), NOW - 3_600_000, NOW + 3000)).toMatchObject({ kind: 'late', reason: 'held-back' });
  });

  it('still rejects a forged envelope at any step as tampered', () => {
    const ch = inbound();
    const forged = sealRecords({ ...out, keys: new EnvelopeKeys(new Uint8Array(32).fill(7), 'hv-07') }, 1, req(1), NOW - 3_600_000);
    expect(forged.map((r) => ch.pushRecord(r, NOW)).at(-1)).toMatchObject({ kind: 'rejected', code: 'ERR_ENVELOPE_TAMPERED' });
  });
});

describe('inbound channel: incarnations', () => {
  const hello = (incarnation: number, firstUnackedId: number): Body => ({ hello: { role: 1, hostId: 'hv-07', incarnation, nextMessageId: firstUnackedId, firstUnackedId } });

  it('rewinds for a Hello of an unseen incarnation whose id it has already delivered (restored store)', () => {
    const ch = inbound();
    expect(push(ch, 1, hello(111, 1), NOW, NOW)?.kind).toBe('delivered');
    for (let id = 2; id <= 40; id++) push(ch, id, req(id), NOW, NOW);
    expect(ch.ack().cumulativeId).toBe(40);
    // The peer's store is restored from a copy taken at id 20; 18 was still unacknowledged in it.
    expect(push(ch, 21, hello(222, 18), NOW + 1000, NOW + 1000)).toMatchObject({ kind: 'delivered', messageId: 21, rewound: true });
    expect(push(ch, 18, req(18), NOW + 1000, NOW + 1000)?.kind).toBe('delivered');
    expect(push(ch, 22, req(22), NOW + 1000, NOW + 1000)?.kind).toBe('delivered');
    // The same Hello again (a retransmission or a replay) changes nothing.
    expect(push(ch, 21, hello(222, 18), NOW + 2000, NOW + 2000)).toEqual({ kind: 'duplicate', messageId: 21 });
    // Nor does an old incarnation's Hello replayed.
    expect(push(ch, 1, hello(111, 1), NOW + 2000, NOW + 2000)).toEqual({ kind: 'duplicate', messageId: 1 });
    expect(ch.peerState().incarnations).toEqual([111, 222]);
  });

  it('rewinds for a Hello of an unseen incarnation with a fresh id too, when it will send again ids already delivered (simulation seed 210)', () => {
    const ch = inbound();
    push(ch, 1, hello(111, 1), NOW, NOW);
    for (let id = 2; id <= 32; id++) push(ch, id, req(id), NOW, NOW);
    // Restored from a copy that had sent up to 53 with 1..53 unacknowledged; we had delivered 1..32 only.
    expect(push(ch, 54, { hello: { role: 1, hostId: 'hv-07', incarnation: 222, nextMessageId: 54, firstUnackedId: 1 } }, NOW + 1000, NOW + 1000)).toMatchObject({ kind: 'delivered', messageId: 54, rewound: true });
    // Its 1..32 may be other messages now: delivered again, marked as possibly done before; 33 on as usual.
    expect(push(ch, 2, req(2), NOW + 1000, NOW + 1000)).toMatchObject({ kind: 'delivered', messageId: 2, redelivery: true });
    expect(push(ch, 33, req(33), NOW + 1000, NOW + 1000)).not.toHaveProperty('redelivery');
    expect(push(ch, 2, req(2), NOW + 1000, NOW + 1000)).toEqual({ kind: 'duplicate', messageId: 2 });
  });

  it('what was delivered before a rewind stays marked across a restart (peerState)', () => {
    const ch = inbound();
    push(ch, 1, hello(111, 1), NOW, NOW);
    for (let id = 2; id <= 12; id++) push(ch, id, req(id), NOW, NOW);
    push(ch, 13, { hello: { role: 1, hostId: 'hv-07', incarnation: 222, nextMessageId: 13, firstUnackedId: 5 } }, NOW, NOW);
    expect(ch.peerState().redeliverUpTo).toBe(12);
    const again = new InboundChannel({ keys, receiveDirection: Direction.DIRECTION_TO_HOST, window: ch.windowState(), peer: ch.peerState() });
    expect(push(again, 7, req(7), NOW, NOW)).toMatchObject({ kind: 'delivered', messageId: 7, redelivery: true });
    expect(push(again, 14, req(14), NOW, NOW)).not.toHaveProperty('redelivery');
  });

  it('a new incarnation that will send nothing we delivered does not rewind (a plain restart with everything acknowledged)', () => {
    const ch = inbound();
    push(ch, 1, hello(111, 1), NOW, NOW);
    for (let id = 2; id <= 10; id++) push(ch, id, req(id), NOW, NOW);
    const ev = push(ch, 11, hello(222, 11), NOW + 1000, NOW + 1000);
    expect(ev).toMatchObject({ kind: 'delivered', messageId: 11 });
    expect(ev).not.toHaveProperty('rewound');
    expect(push(ch, 10, req(10), NOW + 1000, NOW + 1000)).toEqual({ kind: 'duplicate', messageId: 10 });
  });

  it('keeps what it learned across a restart (peerState)', () => {
    const ch = inbound();
    push(ch, 1, hello(5, 1), NOW + 75_000, NOW);
    const again = new InboundChannel({ keys, receiveDirection: Direction.DIRECTION_TO_HOST, window: ch.windowState(), peer: ch.peerState() });
    expect(again.clockOffsetMs).toBe(75_000);
    expect(push(again, 1, hello(5, 1), NOW + 75_000, NOW)).toEqual({ kind: 'duplicate', messageId: 1 });
  });
});

describe('inbound channel: a restarted peer', () => {
  it('forgets the old clock samples when a new incarnation says hello (its clock may have been stepped)', () => {
    const ch = inbound();
    push(ch, 1, req(1), NOW + 10 * MIN, NOW);
    expect(ch.clockOffsetMs).toBe(10 * MIN);
    push(ch, 2, { hello: { role: 1, hostId: 'hv-07', incarnation: 9, nextMessageId: 2, firstUnackedId: 2 } }, NOW + 1000 + 75_000, NOW + 1000);
    expect(ch.clockOffsetMs).toBe(75_000);
  });
});
