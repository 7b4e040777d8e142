import { concatBytes, encodeVmControlFrame, encodeVmRequestFrame, encodeOemRequest, type VmRequest } from '@backchannel/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';
import { VmTestClient } from './vm-test-client.js';

/** xorshift32: a seeded generator so a failing run can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const SEEDS: VmRequest[] = [
  { seq: 1, netfn: 0x06, lun: 0, cmd: 0x01, data: new Uint8Array() },
  { seq: 2, netfn: 0x06, lun: 0, cmd: 0x31, data: new Uint8Array() },
  { seq: 3, netfn: 0x06, lun: 0, cmd: 0x2e, data: Uint8Array.of(0x0f) },
  { seq: 4, netfn: 0x06, lun: 0, cmd: 0x42, data: Uint8Array.of(0x0e) },
  { seq: 5, netfn: 0x2e, lun: 0, cmd: 0x00, data: encodeOemRequest({ kind: 'get-queue-info', iana: 32473, queue: 2 }) },
  { seq: 6, netfn: 0x2e, lun: 0, cmd: 0x01, data: encodeOemRequest({ kind: 'put-record', iana: 32473, queue: 2, seq: 1, record: new Uint8Array(40).fill(0xa0) }) },
  { seq: 7, netfn: 0x2e, lun: 0, cmd: 0x02, data: encodeOemRequest({ kind: 'get-record', iana: 32473, queue: 1, commitSeq: 0 }) },
  { seq: 8, netfn: 0x2c, lun: 0, cmd: 0x00, data: Uint8Array.of(0) },
];

function mutate(frame: Uint8Array, next: () => number): Uint8Array {
  const f = Array.from(frame);
  const edits = 1 + (next() % 4);
  for (let i = 0; i < edits; i++) {
    const at = next() % Math.max(1, f.length);
    switch (next() % 7) {
      case 0:
        f[at] = (f[at] ?? 0) ^ (1 << (next() % 8));
        break;
      case 1:
        f.splice(at, 0, next() & 0xff);
        break;
      case 2:
        f.splice(at, 1);
        break;
      case 3:
        f[at] = [0xa0, 0xa1, 0xaa][next() % 3] ?? 0xaa;
        break;
      case 4:
        f.length = at;
        break;
      case 5:
        for (let n = next() % 40; n > 0; n--) f.push(next() & 0xff);
        break;
      default:
        // leave it valid: some requests must reach the handlers
        break;
    }
  }
  return Uint8Array.from(f);
}

let h: Harness | undefined;
let c: VmTestClient | undefined;
afterEach(async () => {
  c?.destroy();
  await h?.close();
});

describe('VM listener fuzz (bounded)', () => {
  it('50,000 mutated frames leave it answering, with every bad frame counted', async () => {
    h = await startHarness({ capacityBytes: 4096 });
    c = await VmTestClient.connect(h.port);
    const next = rng(0x5eed);
    const frames = SEEDS.map((s) => encodeVmRequestFrame(s)).concat([encodeVmControlFrame({ kind: 'capabilities', capabilities: 0x3f })]);
    const started = Date.now();
    const TOTAL = 50_000;
    const BATCH = 1000;
    for (let sent = 0; sent < TOTAL; sent += BATCH) {
      const batch: Uint8Array[] = [];
      for (let i = 0; i < BATCH; i++) batch.push(mutate(frames[next() % frames.length] as Uint8Array, next));
      c.writeRaw(concatBytes(batch));
      // Let the listener drain before the next batch, as a real line would pace it.
      await new Promise((r) => setImmediate(r));
    }
    // Terminate whatever partial frame the last mutation left, then ask a plain question.
    c.writeRaw(Uint8Array.of(0xa0));
    const answer = await c.request(0x06, 0x01, new Uint8Array(), 10_000);
    expect(answer.cc).toBe(0);
    const s = h.si.stats();
    expect(s.connections).toBe(1);
    expect(s.disconnects).toBe(0);
    expect(s.requests).toBeGreaterThan(1000);
    expect(s.badChecksum + s.malformedFrames + s.discardedFrames).toBeGreaterThan(10_000);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
