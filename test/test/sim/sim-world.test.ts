// The pieces of the link simulation's world (src/sim/sim-world.ts): event order, clocks, the lossy
// wire, partitions, and the BMC (bmc-oem's QueueEngine) restarting from its journal or empty.
import { QueueEngine } from '@backchannel/bmc-oem';
import { decodeGetRecordResponse, decodeQueueInfoResponse, encodeOemRequest, OemCommand, QueueId } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/faults/seeded-random.js';
import { EventLoop, inIntervals, MemoryQueueJournal, PartyClock, partitionSchedule, SimBmc, Wire } from '../../src/sim/sim-world.js';

const IANA = 32473;
const bytes = (rnd: () => number) => (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));

describe('EventLoop', () => {
  it('runs events by time, ties in the order they were scheduled, and never goes back in time', () => {
    const loop = new EventLoop();
    const seen: string[] = [];
    loop.at(30, () => seen.push('c'));
    loop.at(10, () => seen.push('a1'));
    loop.at(10, () => seen.push('a2'));
    loop.at(20, () => {
      seen.push('b');
      loop.at(5, () => seen.push(`late@${loop.now}`)); // in the past: runs now
      loop.after(0, () => seen.push('b+0'));
    });
    loop.run(Number.POSITIVE_INFINITY, () => false);
    expect(seen).toEqual(['a1', 'a2', 'b', 'late@20', 'b+0', 'c']);
    expect(loop.now).toBe(30);
    expect(loop.events).toBe(6);
  });

  it('stops at the horizon or when told, and can go on from there', () => {
    const loop = new EventLoop();
    const seen: number[] = [];
    for (let t = 1; t <= 10; t++) loop.at(t * 100, () => seen.push(t));
    loop.run(450, () => false);
    expect(seen).toEqual([1, 2, 3, 4]);
    loop.run(Number.POSITIVE_INFINITY, () => seen.length === 6);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(loop.now).toBe(600);
  });

  it('a heap of many random events comes out sorted', () => {
    const rnd = seededRandom(3);
    const loop = new EventLoop();
    const out: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const at = Math.floor(rnd() * 10_000);
      loop.at(at, () => out.push(at));
    }
    loop.run(Number.POSITIVE_INFINITY, () => false);
    expect(out).toEqual([...out].sort((a, b) => a - b));
  });
});

describe('PartyClock', () => {
  it('reads t0 + skew + t·(1 + drift), and simAt finds the first simulated ms it reads a local time', () => {
    const c = new PartyClock(1_000_000, -600_000, 100);
    expect(c.local(0)).toBe(400_000);
    expect(c.local(3_600_000)).toBe(400_000 + 3_600_000 + 360); // 100 ppm of an hour
    for (const local of [400_000, 400_001, 1_234_567, 4_000_360, 4_000_361]) {
      const t = c.simAt(local);
      expect(c.local(t)).toBeGreaterThanOrEqual(local);
      expect(c.local(t - 1)).toBeLessThan(local);
    }
    const slow = new PartyClock(0, 0, -100);
    const t = slow.simAt(10_000_000);
    expect(slow.local(t)).toBeGreaterThanOrEqual(10_000_000);
    expect(slow.local(t - 1)).toBeLessThan(10_000_000);
  });
});

describe('Wire and partitions', () => {
  it('loses, duplicates and delays datagrams as the profile says, the same way for the same seed', () => {
    const run = (seed: number) => {
      const loop = new EventLoop();
      const wire = new Wire(loop, seededRandom(seed), { loss: 0.2, dup: 0.05, minDelayMs: 1, maxDelayMs: 20, reorder: 0.1, reorderMs: 100 });
      const arrived: [number, number][] = [];
      for (let i = 0; i < 5000; i++) loop.at(i, () => wire.send(() => arrived.push([i, loop.now])));
      loop.run(Number.POSITIVE_INFINITY, () => false);
      return { arrived, lost: wire.lost, duplicated: wire.duplicated };
    };
    const a = run(1);
    expect(a).toEqual(run(1));
    expect(a.lost / 5000).toBeGreaterThan(0.17);
    expect(a.lost / 5000).toBeLessThan(0.23);
    expect(a.duplicated).toBeGreaterThan(100);
    for (const [sent, at] of a.arrived) {
      expect(at - sent).toBeGreaterThanOrEqual(1);
      expect(at - sent).toBeLessThanOrEqual(120);
    }
    const order = a.arrived.map(([i]) => i);
    expect(order).not.toEqual([...order].sort((x, y) => x - y)); // reordered
  });

  it('a partition drops what is sent during it and what would arrive during it', () => {
    const loop = new EventLoop();
    const cuts: [number, number][] = [[100, 200]];
    const wire = new Wire(loop, seededRandom(1), { loss: 0, dup: 0, minDelayMs: 10, maxDelayMs: 10, reorder: 0, reorderMs: 0 }, (t) => inIntervals(cuts, t));
    const got: number[] = [];
    for (const t of [50, 95, 150, 199, 200, 250]) loop.at(t, () => wire.send(() => got.push(t)));
    loop.run(Number.POSITIVE_INFINITY, () => false);
    expect(got).toEqual([50, 200, 250]);
    expect(wire.lost).toBe(3);
  });

  it('partitionSchedule draws sorted intervals inside the horizon', () => {
    const p = partitionSchedule(seededRandom(9), 600_000, 5, 60_000);
    expect(p).toHaveLength(5);
    for (const [s, e] of p) {
      expect(s).toBeLessThan(600_000);
      expect(e - s).toBeGreaterThanOrEqual(1_000);
      expect(e - s).toBeLessThanOrEqual(61_000);
    }
    expect(p.map(([s]) => s)).toEqual(p.map(([s]) => s).sort((a, b) => a - b));
    expect(inIntervals([[10, 20], [30, 40]], 35)).toBe(true);
    expect(inIntervals([[10, 20], [30, 40]], 25)).toBe(false);
  });
});

describe('the BMC', () => {
  const put = (seq: number, b: number) => encodeOemRequest({ kind: 'put-record', iana: IANA, queue: QueueId.ToHost, seq, record: new Uint8Array([b]) });
  const get = (commitSeq: number) => encodeOemRequest({ kind: 'get-record', iana: IANA, queue: QueueId.ToHost, commitSeq });
  const info = encodeOemRequest({ kind: 'get-queue-info', iana: IANA, queue: QueueId.ToHost });

  it('MemoryQueueJournal gives a QueueEngine restarted from it exactly the queues it had', () => {
    const rnd = seededRandom(5);
    const journal = new MemoryQueueJournal();
    const a = new QueueEngine({ iana: IANA, randomBytes: bytes(rnd), store: journal });
    for (let s = 1; s <= 5; s++) expect(a.handle(OemCommand.PutRecord, 'lan', 3, put(s, s)).cc).toBe(0);
    a.handle(OemCommand.GetRecord, 'system', 0, get(2));
    const b = new QueueEngine({ iana: IANA, randomBytes: bytes(rnd), store: journal });
    expect(b.snapshot(QueueId.ToHost)).toEqual(a.snapshot(QueueId.ToHost));
    expect(b.snapshot(QueueId.ToManager)).toEqual(a.snapshot(QueueId.ToManager));
    expect(decodeGetRecordResponse(b.handle(OemCommand.GetRecord, 'system', 0, get(2)).data)).toMatchObject({ seq: 3, committedSeq: 2, depth: 3 });
  });

  it('SimBmc: a restart keeps the queues with a journal, draws new epochs without; old sessions and duplicate datagrams are dropped', () => {
    for (const durable of [true, false]) {
      const bmc = new SimBmc({ iana: IANA, capacityBytes: 65536, durable, randomBytes: bytes(seededRandom(2)) });
      const s1 = { id: 'lan-1', boot: bmc.boot };
      expect(bmc.request(s1, 1, OemCommand.PutRecord, 'lan', 3, put(1, 9))?.cc).toBe(0);
      expect(bmc.request(s1, 1, OemCommand.PutRecord, 'lan', 3, put(2, 9))).toBeUndefined(); // same session seq: a duplicate datagram
      const before = decodeQueueInfoResponse(bmc.request(s1, 2, OemCommand.GetQueueInfo, 'lan', 3, info)!.data);
      bmc.crash();
      expect(bmc.request(s1, 3, OemCommand.GetQueueInfo, 'lan', 3, info)).toBeUndefined(); // down
      bmc.start();
      expect(bmc.request(s1, 4, OemCommand.GetQueueInfo, 'lan', 3, info)).toBeUndefined(); // a session of the old boot
      const after = decodeQueueInfoResponse(bmc.request({ id: 'lan-2', boot: bmc.boot }, 1, OemCommand.GetQueueInfo, 'lan', 3, info)!.data);
      if (durable) expect(after).toEqual(before);
      else {
        expect(after.bmcEpoch).not.toBe(before.bmcEpoch);
        expect(after.lastPutSeq).toBe(0);
      }
    }
  });
});
