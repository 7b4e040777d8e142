/**
 * Goodput of the channel: bytes per second of protobuf `Body` payload that
 * arrive, opened and de-duplicated, at the other end, in both directions,
 * through one bmc-oem daemon (durable queues: --state-dir, so every Put
 * Record is fsynced before its answer, as in production):
 *
 *   manager → hypervisor: seal + fragment (proto sealRecords), Put Record
 *     queue 1 over RMCP+ (vms-agent's client, suite 17, one request in
 *     flight as HostLink does); Get Record queue 1 with commit over the VM
 *     protocol (hypervisor-agent's transport), InboundChannel.pushRecord.
 *   hypervisor → manager: the same the other way (Put over the VM protocol,
 *     Get over RMCP+).
 *
 * Anchor, same run, same clients and queue: raw Put Record of full
 * `max_record`-byte records with the same reader draining, i.e. the record
 * rate × max_record. The ratio is the protocol's efficiency: fragment
 * headers, envelope (header, IV, tag), the short last record of each
 * message, and the CPU of sealing and opening.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type backchannel,
  Direction,
  DomainState,
  encodeBody,
  EnvelopeKeys,
  InboundChannel,
  QueueId,
  sealRecords,
} from '@backchannel/proto';
import { openTransport } from '@backchannel/hypervisor-agent';
import { openSession } from '@backchannel/vms-agent/rmcp';
import { randomBytes } from 'node:crypto';
import { type BmcOemInstance, startBmcOem } from '../interop/ipmitool-bmc-oem.js';
import { type Benchmark, type Metric, metric } from './metric.js';
import { type QueueEnd, queueEnd } from './queue-end.js';

const HOST_ID = 'hv-bench-01';
const rng = (n: number) => new Uint8Array(randomBytes(n));
const tick = () => new Promise<void>((r) => setImmediate(r));

export interface GoodputRun {
  /** Payload (Body protobuf) bytes delivered per second. */
  payloadRate: number;
  messages: number;
  records: number;
}

/** Moves messages from `from` to `to` on `queue` for `durationMs` (one Put in flight), then drains. */
async function pump(from: QueueEnd, to: QueueEnd, queue: number, durationMs: number, nextMessage: (id: number) => Uint8Array[], accept: (record: Uint8Array) => number): Promise<GoodputRun> {
  let seq = (await from.lastPutSeq(queue)) + 1;
  let sent = 0;
  let stop = false;
  let delivered = 0;
  let received = 0;
  let messages = 0;
  const start = performance.now();
  let lastDelivery = start;
  const sender = (async () => {
    for (let id = 1; !stop; id++) {
      for (const record of nextMessage(id)) {
        while ((await from.put(queue, seq, record)) === 'full') await tick();
        seq++;
        sent++;
      }
      if (performance.now() - start >= durationMs) stop = true;
    }
  })();
  const receiver = (async () => {
    let commit = 0;
    const deadline = start + durationMs + 20_000;
    while ((!stop || received < sent) && performance.now() < deadline) {
      const r = await to.get(queue, commit);
      if (r.seq === 0 || r.seq <= commit) {
        await tick();
        continue;
      }
      commit = r.seq;
      received++;
      const bytes = accept(r.record);
      if (bytes > 0) {
        delivered += bytes;
        messages++;
        lastDelivery = performance.now();
      }
    }
    await to.get(queue, commit); // release the last record
  })();
  await Promise.all([sender, receiver]);
  if (received !== sent) throw new Error(`goodput: ${sent} records put, ${received} read back`);
  return { payloadRate: delivered / ((lastDelivery - start) / 1000), messages, records: received };
}

/** A StatusReport of `domains` domains: the large hypervisor → manager message. */
function statusReport(domains: number, seq: number): backchannel.v1.IBody {
  return {
    statusReport: {
      hostId: HOST_ID, timeMs: Date.now(), agentVersion: '0.1.0', libvirtVersion: '10.0.0', hypervisor: 'test', reportSeq: 1_000_000 + seq, // fixed-width fields: every message the same size
      domains: Array.from({ length: domains }, (_, i) => ({
        name: `guest-${String(i).padStart(4, '0')}`, uuid: `6695eb01-f6a4-8304-79aa-${String(i).padStart(12, '0')}`,
        state: DomainState.DOMAIN_STATE_RUNNING, vcpus: 4, memoryKib: 4_194_304, maxMemoryKib: 8_388_608, id: i + 1,
      })),
    },
  };
}

/** A CommandRequest whose parameters carry `bytes` of text: the large manager → hypervisor message. */
function bigRequest(bytes: number, id: number): backchannel.v1.IBody {
  const parameters: Record<string, string> = {};
  for (let i = 0; bytes > 0; i++, bytes -= 512) parameters[`p${i}`] = Buffer.from(rng(384)).toString('base64').slice(0, Math.min(512, bytes));
  return { commandRequest: { requestId: `bench-${String(id).padStart(8, '0')}`, hostId: HOST_ID, principal: 'alice', action: 1, domain: 'web-1', parameters, issuedAtMs: Date.now(), principalSignature: { keyId: '0123456789abcdef', signature: rng(64) } } };
}

export interface GoodputResult {
  maxRecord: number;
  directions: { name: string; bodyBytes: number; sealedRate: number; rawRate: number; messages: number; records: number; rounds: number }[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[s.length >> 1] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

export async function runGoodput(options: { rounds: number; sliceMs: number; requestBytes: number; reportDomains: number }): Promise<GoodputResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'goodput-bmc-state-'));
  // Started inside the try, so a failed start still stops bmc-oem (it writes into stateDir) and removes the dir.
  let bmc: BmcOemInstance | undefined;
  let session: Awaited<ReturnType<typeof openSession>> | undefined;
  let transport: Awaited<ReturnType<typeof openTransport>> | undefined;
  try {
    bmc = await startBmcOem([{ name: 'oper', privilege: 'operator', password: 'oper-secret' }], ['--vm-listen', 'tcp:127.0.0.1:0', '--state-dir', stateDir]);
    const vmPort = Number(/"vm":\["tcp:127\.0\.0\.1:(\d+)"/.exec(bmc.proc.output)?.[1]);
    const password = readFileSync(bmc.passwordFile('oper'), 'utf8').trim();
    session = await openSession({ host: '127.0.0.1', port: bmc.port, user: 'oper', password, privilege: 'operator', cipherSuites: [17], keepAliveMs: 0 });
    transport = await openTransport(`vm+tcp://127.0.0.1:${vmPort}`);
    const manager = queueEnd(session, 32473);
    const host = queueEnd(transport, 32473);
    const maxRecord = await manager.maxRecord(QueueId.ToHost);
    const keys = new EnvelopeKeys(rng(32), HOST_ID);
    const directions: GoodputResult['directions'] = [];
    const cases = [
      { name: 'manager → hypervisor (CommandRequest)', from: manager, to: host, queue: QueueId.ToHost, send: Direction.DIRECTION_TO_HOST, body: (id: number) => bigRequest(options.requestBytes, id) },
      { name: 'hypervisor → manager (StatusReport)', from: host, to: manager, queue: QueueId.ToManager, send: Direction.DIRECTION_TO_MANAGER, body: (id: number) => statusReport(options.reportDomains, id) },
    ];
    for (const c of cases) {
      const sample = encodeBody(c.body(1));
      const full = rng(maxRecord);
      const inbound = new InboundChannel({ keys, receiveDirection: c.send });
      let nextId = 16_384; // a 3-byte varint from the start: every envelope the same size
      const rawRates: number[] = [];
      const sealedRates: number[] = [];
      let messages = 0;
      let records = 0;
      // Alternate short raw and sealed slices and compare medians: a stall of the shared
      // machine (fsync, scheduling) then hits one slice, not a whole figure.
      for (let round = 0; round < options.rounds; round++) {
        rawRates.push((await pump(c.from, c.to, c.queue, options.sliceMs, () => [full], () => maxRecord)).payloadRate);
        const sealed = await pump(
          c.from, c.to, c.queue, options.sliceMs,
          () => {
            const id = nextId++;
            return sealRecords({ keys, sendDirection: c.send, maxRecord, randomBytes: rng }, id, c.body(id), Date.now());
          },
          (record) => {
            const ev = inbound.pushRecord(record, Date.now());
            if (ev?.kind === 'rejected') throw new Error(`receiver rejected a record: ${ev.code}`);
            return ev?.kind === 'delivered' ? encodeBody(ev.body).length : 0;
          },
        );
        sealedRates.push(sealed.payloadRate);
        messages += sealed.messages;
        records += sealed.records;
      }
      directions.push({ name: c.name, bodyBytes: sample.length, sealedRate: median(sealedRates), rawRate: median(rawRates), messages, records, rounds: options.rounds });
    }
    return { maxRecord, directions };
  } finally {
    await transport?.close().catch(() => undefined);
    await session?.close().catch(() => undefined);
    await bmc?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function toMetrics(r: GoodputResult): Metric[] {
  return r.directions.map((d) =>
    metric(
      `goodput ${d.name}, ${d.bodyBytes}-byte bodies`,
      d.sealedRate,
      'B/s',
      `raw Put Record rate x max_record (${r.maxRecord}), same clients and queue`,
      d.rawRate,
      `goal >= 0.75; medians of ${d.rounds} alternating raw/sealed slices; ${d.messages} messages in ${d.records} records (${(d.records / Math.max(1, d.messages)).toFixed(1)}/message); raw ${Math.round(d.rawRate / r.maxRecord)} records/s`,
    ),
  );
}

export const goodputBench: Benchmark = {
  name: 'goodput',
  description: 'protobuf payload bytes/s through one bmc-oem, both directions, vs raw Put Record rate x max_record',
  async run({ quick }) {
    return toMetrics(await runGoodput({ rounds: quick ? 2 : 10, sliceMs: quick ? 400 : 1500, requestBytes: 4096, reportDomains: 48 }));
  },
};
