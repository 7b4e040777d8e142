/**
 * Put/Get record pairs per second through one bmc-oem daemon (issue 4
 * "Benchmark"): a producer over RMCP+ (vms-agent's client, suite 17,
 * Put Record on queue 1 with its seq tracked, one request in flight) and a
 * consumer over the VM protocol (hypervisor-agent's VM serial transport,
 * Get Record with commit, woken by the ATN doorbell). A pair is counted
 * when the consumer has the record.
 *
 * Anchor, same daemon, same run: stock `ipmitool -I lanplus -C 17 exec
 * FILE` putting records on queue 1 while the same consumer drains them.
 * ipmitool's exec splits a line into at most 64 arguments and silently
 * drops the rest, so a Put Record line carries at most 53 record bytes
 * (64 - `raw`, netfn, cmd, 3 IANA, queue, 4 seq); the anchor therefore uses
 * 53-byte records, and the bytes-per-second figure compares payload moved.
 * ipmitool's rate is (N2 - N1) / (t2 - t1) over two runs, so its process
 * start and handshake cancel out.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_OEM_IANA,
  decodeGetRecordResponse,
  decodePutRecordResponse,
  decodeQueueInfoResponse,
  encodeOemRequest,
  NetFn,
  OemCommand,
  OemCompletion,
} from '@backchannel/proto';
import { type BmcTransport, openTransport } from '@backchannel/hypervisor-agent';
import { openSession, type RmcpSession } from '@backchannel/vms-agent/rmcp';
import { type BmcOemInstance, startBmcOem } from '../interop/ipmitool-bmc-oem.js';
import { type Benchmark, type Metric, metric } from './metric.js';

const IANA = DEFAULT_OEM_IANA;
const RECORD_BYTES = 200;
/** The largest record an `ipmitool exec` line carries (see the header). */
export const IPMITOOL_EXEC_MAX_RECORD = 53;
/** Puts in flight for the pipelined figure. */
const PIPELINE = 8;

/** Consumer over the VM protocol: Get Record with commit in a loop, woken by ATN when the queue is empty. */
class QueueDrainer {
  received = 0;
  #commit: number;
  #running = true;
  #error: Error | undefined;
  readonly #done: Promise<void>;
  #wake: (() => void) | undefined;
  #waiters: Array<{ n: number; resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(
    private readonly transport: BmcTransport,
    committed: number,
  ) {
    this.#commit = committed;
    transport.onAttention(() => this.#wake?.());
    this.#done = this.#loop().catch((err: unknown) => {
      this.#error = err instanceof Error ? err : new Error(String(err));
      for (const w of this.#waiters) w.reject(this.#error);
      this.#waiters = [];
    });
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      const r = await this.transport.request(NetFn.OEM_GROUP, OemCommand.GetRecord, encodeOemRequest({ kind: 'get-record', iana: IANA, queue: 1, commitSeq: this.#commit }));
      if (r.cc !== 0) throw new Error(`Get Record answered 0x${r.cc.toString(16)}`);
      const g = decodeGetRecordResponse(r.data);
      if (g.seq !== 0) {
        if (g.seq !== this.#commit + 1) throw new Error(`Get Record returned seq ${g.seq} after ${this.#commit}`);
        this.#commit = g.seq;
        this.received++;
        const ready = this.#waiters.filter((w) => w.n <= this.received);
        this.#waiters = this.#waiters.filter((w) => w.n > this.received);
        for (const w of ready) w.resolve();
        continue;
      }
      // Empty: wait for the doorbell (a fallback timer covers a doorbell rung just before we asked).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    // Release the last record read.
    await this.transport.request(NetFn.OEM_GROUP, OemCommand.GetRecord, encodeOemRequest({ kind: 'get-record', iana: IANA, queue: 1, commitSeq: this.#commit }));
  }

  /** Resolves once `n` records in all have been read; rejects if the consumer failed. */
  waitFor(n: number): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.received >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#waiters.push({ n, resolve, reject }));
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#done;
    if (this.#error) throw this.#error;
  }
}

async function queueInfo(session: RmcpSession): Promise<{ lastPutSeq: number; committedSeq: number }> {
  const r = await session.request(NetFn.OEM_GROUP, OemCommand.GetQueueInfo, encodeOemRequest({ kind: 'get-queue-info', iana: IANA, queue: 1 }));
  if (r.cc !== 0) throw new Error(`Get Queue Info answered 0x${r.cc.toString(16)}`);
  return decodeQueueInfoResponse(r.data);
}

/**
 * Producer: Put Record seq first..first+n-1 with up to `window` requests in
 * flight (sent in seq order on one session, so they arrive in order). A
 * full queue (0xC4) or a gap (0x80, a put behind a refused one) makes it
 * wait for the requests in flight, re-read last_put_seq from Get Queue Info
 * and go on from there, as PROTOCOL.md §2 tells a producer to.
 */
async function produce(session: RmcpSession, first: number, n: number, record: Uint8Array, window: number): Promise<void> {
  const end = first + n;
  let next = first;
  while (next < end) {
    const sent: Array<Promise<{ seq: number; cc: number }>> = [];
    let refused = false;
    const put = async (seq: number): Promise<{ seq: number; cc: number }> => {
      const r = await session.request(NetFn.OEM_GROUP, OemCommand.PutRecord, encodeOemRequest({ kind: 'put-record', iana: IANA, queue: 1, seq, record }));
      if (r.cc === 0 && decodePutRecordResponse(r.data).lastPutSeq < seq) throw new Error(`Put Record ${seq} acknowledged with an older last_put_seq`);
      if (r.cc !== 0 && r.cc !== OemCompletion.QueueFull && r.cc !== OemCompletion.SequenceGap) throw new Error(`Put Record ${seq} answered 0x${r.cc.toString(16)}`);
      if (r.cc !== 0) refused = true;
      return { seq, cc: r.cc };
    };
    // Keep `window` puts in flight until one is refused or all are sent.
    const inFlight = new Set<Promise<unknown>>();
    while (next < end && !refused) {
      const p = put(next++);
      sent.push(p);
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(sent);
    if (refused) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      next = (await queueInfo(session)).lastPutSeq + 1;
    }
  }
}

function hex(bytes: Iterable<number>): string {
  return [...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}

/** Runs `ipmitool exec` putting `n` records from seq `first`; resolves with the elapsed ms. */
async function ipmitoolPuts(bmc: BmcOemInstance, user: string, dir: string, first: number, n: number): Promise<number> {
  const record = hex(Array.from({ length: IPMITOOL_EXEC_MAX_RECORD }, (_, i) => i));
  const lines: string[] = [];
  for (let seq = first; seq < first + n; seq++) lines.push(`raw 0x2e 0x01 ${hex([0xd9, 0x7e, 0x00, 0x01, seq & 0xff, (seq >>> 8) & 0xff, (seq >>> 16) & 0xff, seq >>> 24])} ${record}\n`);
  const file = join(dir, `puts-${first}.txt`);
  writeFileSync(file, lines.join(''));
  const args = ['-I', 'lanplus', '-C', '17', '-H', '127.0.0.1', '-p', String(bmc.port), '-U', user, '-f', bmc.passwordFile(user), '-L', 'OPERATOR', 'exec', file];
  const start = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('ipmitool', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
  });
  const elapsed = performance.now() - start;
  const acknowledged = stdout.split('\n').filter((l) => l.startsWith(' d9 7e 00 ')).length;
  if (code !== 0 || acknowledged !== n) throw new Error(`ipmitool exec acknowledged ${acknowledged}/${n} puts (exit ${code}): ${stderr.slice(-500)}`);
  return elapsed;
}

export interface QueueBenchResult {
  records: number;
  /** Ours: records per second produced over RMCP+ (one put in flight) and read over the VM protocol (200-byte records). */
  pairsPerSecond: number;
  /** The same with PIPELINE puts in flight. */
  pairsPerSecondPipelined: number;
  /** Anchor: ipmitool exec Put Records per second (53-byte records), drained by the same consumer. */
  ipmitoolPutsPerSecond: number;
}

export async function runQueueBench(records: number): Promise<QueueBenchResult> {
  const user = { name: 'bench', privilege: 'operator' as const, password: 'bench-secret' };
  const bmc = await startBmcOem([user], ['--vm-listen', 'tcp:127.0.0.1:0']);
  const dir = mkdtempSync(join(tmpdir(), 'bmc-oem-queue-bench-'));
  try {
    const vmPort = Number((await bmc.proc.waitFor(/"vm":\["tcp:127\.0\.0\.1:(\d+)"\]/, 1000))[1]);
    const session = await openSession({ host: '127.0.0.1', port: bmc.port, user: user.name, password: user.password, privilege: 'operator', cipherSuites: [17], keepAliveMs: 0 });
    const transport = await openTransport(`vm+tcp://127.0.0.1:${vmPort}`, { timeoutMs: 5000 });
    try {
      let info = await queueInfo(session);
      const drainer = new QueueDrainer(transport, info.committedSeq);
      try {
        const record = Uint8Array.from({ length: RECORD_BYTES }, (_, i) => i & 0xff);
        await produce(session, info.lastPutSeq + 1, Math.min(50, records), record, 1); // warm-up
        await drainer.waitFor(Math.min(50, records));
        const pairs = async (window: number): Promise<number> => {
          const base = drainer.received;
          const first = (await queueInfo(session)).lastPutSeq + 1;
          const start = performance.now();
          await produce(session, first, records, record, window);
          await drainer.waitFor(base + records);
          return records / ((performance.now() - start) / 1000);
        };
        const pairsPerSecond = await pairs(1);
        const pairsPerSecondPipelined = await pairs(PIPELINE);

        // Anchor: two ipmitool exec runs of different lengths, drained by the same consumer.
        info = await queueInfo(session);
        const n1 = 50;
        const t1 = await ipmitoolPuts(bmc, user.name, dir, info.lastPutSeq + 1, n1);
        const perPut = t1 / n1;
        const n2 = Math.max(n1 * 4, Math.min(20_000, Math.round((records / pairsPerSecond) * 1000 / Math.max(perPut, 0.05))));
        info = await queueInfo(session);
        const t2 = await ipmitoolPuts(bmc, user.name, dir, info.lastPutSeq + 1, n2);
        const ipmitoolPutsPerSecond = t2 > t1 ? (n2 - n1) / ((t2 - t1) / 1000) : n2 / (t2 / 1000);
        return { records, pairsPerSecond, pairsPerSecondPipelined, ipmitoolPutsPerSecond };
      } finally {
        await drainer.stop();
      }
    } finally {
      await session.close();
      await transport.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await bmc.stop();
  }
}

export const bmcOemQueueBench: Benchmark = {
  name: 'bmc-oem-queue',
  description: 'Put/Get record pairs/s through bmc-oem (vms-agent RMCP+ producer, VM-protocol consumer) vs ipmitool exec puts',
  async run({ quick }) {
    const r = await runQueueBench(quick ? 200 : 5000);
    const anchor = `ipmitool -C 17 exec Put Record, ${IPMITOOL_EXEC_MAX_RECORD}-byte records (its exec line limit), same daemon and consumer`;
    const metrics: Metric[] = [
      metric(`bmc-oem Put/Get record pairs, ${RECORD_BYTES}-byte records, ${r.records} records`, r.pairsPerSecond, 'pairs/s', anchor, r.ipmitoolPutsPerSecond, 'producer: vms-agent client, 1 in flight; consumer: hypervisor-agent VM transport'),
      metric(`bmc-oem Put/Get record pairs, ${RECORD_BYTES}-byte records, ${PIPELINE} puts in flight`, r.pairsPerSecondPipelined, 'pairs/s', anchor, r.ipmitoolPutsPerSecond),
      metric(`bmc-oem record payload through queue 1 (${RECORD_BYTES}-byte records)`, r.pairsPerSecond * RECORD_BYTES, 'B/s', `${anchor}, x ${IPMITOOL_EXEC_MAX_RECORD} B`, r.ipmitoolPutsPerSecond * IPMITOOL_EXEC_MAX_RECORD),
    ];
    return metrics;
  },
};
