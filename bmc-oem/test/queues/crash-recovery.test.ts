import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeGetRecordResponse, decodePutRecordResponse, decodeQueueInfoResponse, encodeOemRequest, oemRequestCommand, type OemQueueRequest, toHex } from '@backchannel/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import type { Req } from './helpers.js';

const PKG = new URL('../../', import.meta.url).pathname;
const CHILD = new URL('./fixtures/engine-child.mjs', import.meta.url).pathname;

/** The child runs the compiled engine; rebuild when a queue source is newer than its output. */
function ensureBuilt(): void {
  const src = join(PKG, 'src/queues');
  const stale = readdirSync(src).some((f) => {
    try {
      return statSync(join(src, f)).mtimeMs > statSync(join(PKG, 'dist/queues', f.replace(/\.ts$/, '.js'))).mtimeMs;
    } catch {
      return true;
    }
  });
  if (stale) execFileSync(process.execPath, [join(PKG, '../node_modules/typescript/bin/tsc'), '-p', join(PKG, 'tsconfig.build.json')], { stdio: 'inherit' });
}

class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  constructor(dir: string) {
    this.proc = spawn(process.execPath, [CHILD, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async next(): Promise<Record<string, unknown>> {
    const r = await this.#lines.next();
    if (r.done === true) throw new Error('child exited');
    return JSON.parse(r.value) as Record<string, unknown>;
  }
  async call(side: 'lan' | 'system', privilege: number, req: Req): Promise<{ cc: number; data: Uint8Array }> {
    const full = { ...req, iana: 32473 } as OemQueueRequest;
    this.proc.stdin.write(JSON.stringify({ cmd: oemRequestCommand(full), side, privilege, hex: toHex(encodeOemRequest(full)) }) + '\n');
    const r = await this.next();
    return { cc: r.cc as number, data: new Uint8Array(Buffer.from(r.hex as string, 'hex')) };
  }
  async killHard(): Promise<void> {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.proc.exitCode === null && c.proc.signalCode === null) await c.killHard();
});

async function start(dir: string): Promise<{ child: Child; ready: Record<string, unknown> }> {
  const child = new Child(dir);
  children.push(child);
  return { child, ready: await child.next() };
}

describe('queue engine with --state-dir survives kill -9', () => {
  beforeAll(ensureBuilt, 60_000);

  it('records, seqs and epochs are still there after SIGKILL right after the acknowledgements', async () => {
    const dir = tempDir('bmc-crash-');
    const { child: first } = await start(dir);
    const epoch = decodeQueueInfoResponse((await first.call('lan', 3, { kind: 'get-queue-info', queue: 1 })).data).bmcEpoch;
    for (let seq = 1; seq <= 5; seq++) {
      const r = await first.call('lan', 3, { kind: 'put-record', queue: 1, seq, record: Uint8Array.of(seq, 0xaa, seq) });
      expect(r.cc).toBe(0);
    }
    expect(decodeGetRecordResponse((await first.call('system', 4, { kind: 'get-record', queue: 1, commitSeq: 2 })).data).seq).toBe(3);
    expect(decodePutRecordResponse((await first.call('system', 4, { kind: 'put-record', queue: 2, seq: 1, record: Uint8Array.of(9) })).data).lastPutSeq).toBe(1);
    await first.killHard();

    const { child: second, ready } = await start(dir);
    expect(ready.report).toMatchObject({ tail: 'clean' });
    const q1 = decodeQueueInfoResponse((await second.call('lan', 3, { kind: 'get-queue-info', queue: 1 })).data);
    expect(q1).toMatchObject({ bmcEpoch: epoch, depth: 3, lastPutSeq: 5, committedSeq: 2 });
    const rec = decodeGetRecordResponse((await second.call('system', 4, { kind: 'get-record', queue: 1, commitSeq: 2 })).data);
    expect(rec.seq).toBe(3);
    expect(toHex(rec.record)).toBe('03aa03');
    expect((await second.call('lan', 3, { kind: 'put-record', queue: 1, seq: 5, record: Uint8Array.of(5) })).cc).toBe(0);
    expect(decodeQueueInfoResponse((await second.call('lan', 3, { kind: 'get-queue-info', queue: 1 })).data).depth).toBe(3);
    expect((await second.call('lan', 3, { kind: 'put-record', queue: 1, seq: 7, record: Uint8Array.of(7) })).cc).toBe(0x80);
    expect(decodeQueueInfoResponse((await second.call('lan', 3, { kind: 'get-queue-info', queue: 2 })).data).lastPutSeq).toBe(1);
  });

  it('a process killed in a burst of puts keeps every acknowledged one', async () => {
    const dir = tempDir('bmc-crash-');
    const { child } = await start(dir);
    let acked = 0;
    for (let seq = 1; seq <= 50; seq++) {
      const r = await child.call('system', 4, { kind: 'put-record', queue: 2, seq, record: new Uint8Array(150).fill(seq) });
      if (r.cc === 0) acked = seq;
      // Fire one more request without waiting, then kill: it may or may not have landed.
      if (seq === 50) child.proc.stdin.write(JSON.stringify({ cmd: 1, side: 'system', privilege: 4, hex: toHex(encodeOemRequest({ kind: 'put-record', iana: 32473, queue: 2, seq: 51, record: Uint8Array.of(1) })) }) + '\n');
    }
    await child.killHard();
    const { child: again } = await start(dir);
    const info = decodeQueueInfoResponse((await again.call('lan', 3, { kind: 'get-queue-info', queue: 2 })).data);
    expect(info.lastPutSeq).toBeGreaterThanOrEqual(acked);
    expect(info.depth).toBe(info.lastPutSeq);
  });
});
