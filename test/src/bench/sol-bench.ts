/**
 * Serial-over-LAN vs the OEM-queue path, same run, same bmc-oem daemon:
 *
 * Goodput: sealed messages (a 1 KiB CommandRequest manager → hypervisor, a
 * 12-domain StatusReport back) through
 *   - the OEM queues: vms-agent's RMCP+ client (suite 17) Put/Get on bmc-oem,
 *     hypervisor-agent's VM-protocol transport on the other side;
 *   - SOL: vms-agent's SOL connector (RMCP+ session, SOL activated, queue
 *     requests tunnelled in CRC-checked frames) to bmc-oem's SOL server, a
 *     host serial line paced at 115200 baud 8N1 (11,520 B/s each way, a
 *     software null modem), and hypervisor-agent's serial transport (the
 *     queues held on the host).
 * Slices alternate OEM / SOL; the figures are medians. Anchors: the OEM path
 * in the same run, and the line rate (11,520 B/s).
 *
 * Command latency: the whole stack (VmsAgentStack, default tuning) once with
 * the OEM queues and once over SOL through the paced line, destroy/start of
 * web-1 one at a time, POST ?wait to final; anchor the OEM stack's median.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { type backchannel, Direction, DomainState, encodeBody, EnvelopeKeys, InboundChannel, QueueId, sealRecords } from '@backchannel/proto';
import { openTransport } from '@backchannel/hypervisor-agent';
import { openSession, solConnectorWith } from '@backchannel/vms-agent/rmcp';
import { JsonHttpClient } from '../harness/json-http-client.js';
import { type QueueEnd, queueEnd } from './queue-end.js';
import { type BmcOemInstance, startBmcOem } from '../interop/ipmitool-bmc-oem.js';
import { NullModem } from '../sol/null-modem.js';
import { VmsAgentStack } from '../vms-agent-e2e/stack.js';
import { runCommand, useDefaults } from './e2e-latency-bench.js';
import { type Benchmark, type Metric, metric } from './metric.js';

const HOST_ID = 'hv-sol-bench';
/** 115200 baud, 8 data bits, no parity, 1 stop bit: 10 bits a byte. */
export const LINE_RATE = 11_520;
const rng = (n: number) => new Uint8Array(randomBytes(n));
const tick = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Moves messages for `durationMs` (one Put in flight, the reader polling beside it), then drains; payload bytes delivered per second. */
async function pump(from: QueueEnd, to: QueueEnd, queue: number, durationMs: number, next: (id: number) => Uint8Array[], accept: (r: Uint8Array) => number): Promise<number> {
  let seq = (await from.lastPutSeq(queue)) + 1;
  let sent = 0;
  let received = 0;
  let delivered = 0;
  let stop = false;
  const start = performance.now();
  let last = start;
  const sender = (async () => {
    for (let id = 1; !stop; id++) {
      for (const record of next(id)) {
        while ((await from.put(queue, seq, record)) === 'full') await sleep(5);
        seq++;
        sent++;
      }
      if (performance.now() - start >= durationMs) stop = true;
    }
  })();
  const receiver = (async () => {
    let commit = 0;
    const deadline = start + durationMs + 60_000;
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
        last = performance.now();
      }
    }
    await to.get(queue, commit);
  })();
  await Promise.all([sender, receiver]);
  if (received !== sent) throw new Error(`sol bench: ${sent} records put, ${received} read back`);
  return delivered / ((last - start) / 1000);
}

function request(id: number): backchannel.v1.IBody {
  return { commandRequest: { requestId: `sol-${String(id).padStart(8, '0')}`, hostId: HOST_ID, principal: 'alice', action: 1, domain: 'web-1', parameters: { blob: Buffer.from(rng(768)).toString('base64') }, issuedAtMs: Date.now() } };
}

function report(id: number): backchannel.v1.IBody {
  return {
    statusReport: {
      hostId: HOST_ID, timeMs: Date.now(), agentVersion: '0.1.0', libvirtVersion: '10.0.0', hypervisor: 'test', reportSeq: 1_000_000 + id,
      domains: Array.from({ length: 12 }, (_, i) => ({ name: `guest-${String(i).padStart(4, '0')}`, uuid: `6695eb01-f6a4-8304-79aa-${String(i).padStart(12, '0')}`, state: DomainState.DOMAIN_STATE_RUNNING, vcpus: 4, memoryKib: 4_194_304, maxMemoryKib: 8_388_608, id: i + 1 })),
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface SolGoodput {
  name: string;
  bodyBytes: number;
  oem: number;
  sol: number;
}

export async function runSolGoodput(o: { rounds: number; oemSliceMs: number; solSliceMs: number }): Promise<SolGoodput[]> {
  const modem = await NullModem.open({ bytesPerSecond: LINE_RATE });
  let bmc: BmcOemInstance | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    bmc = await startBmcOem([{ name: 'oper', privilege: 'operator', password: 'oper-secret' }], ['--vm-listen', 'tcp:127.0.0.1:0', '--sol-device', `tcp:127.0.0.1:${modem.ports.bmc}`]);
    await bmc.proc.waitFor(/SOL host serial line up/, 10_000);
    const vmPort = Number(/"vm":\["tcp:127\.0\.0\.1:(\d+)"/.exec(bmc.proc.output)?.[1]);
    const password = readFileSync(bmc.passwordFile('oper'), 'utf8').trim();
    const target = { hostId: HOST_ID, host: '127.0.0.1', port: bmc.port, user: 'oper', password, privilege: 'operator' as const, cipherSuites: [17] };
    const oemSession = await openSession({ ...target, keepAliveMs: 0 });
    closers.push(() => oemSession.close());
    const vm = await openTransport(`vm+tcp://127.0.0.1:${vmPort}`);
    closers.push(() => vm.close());
    const serial = await openTransport(`tcp:127.0.0.1:${modem.ports.host}`);
    closers.push(() => serial.close());
    const solSession = await solConnectorWith({})(target);
    closers.push(() => solSession.close());
    const paths = { oem: { manager: queueEnd(oemSession, 32473), host: queueEnd(vm, 32473) }, sol: { manager: queueEnd(solSession, 32473), host: queueEnd(serial, 32473) } };
    const keys = new EnvelopeKeys(rng(32), HOST_ID);
    const out: SolGoodput[] = [];
    for (const c of [
      { name: 'manager → hypervisor (CommandRequest)', down: true, send: Direction.DIRECTION_TO_HOST, queue: QueueId.ToHost, body: request },
      { name: 'hypervisor → manager (StatusReport)', down: false, send: Direction.DIRECTION_TO_MANAGER, queue: QueueId.ToManager, body: report },
    ]) {
      const rates = { oem: [] as number[], sol: [] as number[] };
      let nextId = 16_384;
      for (let round = 0; round < o.rounds; round++) {
        for (const path of ['oem', 'sol'] as const) {
          const p = paths[path];
          const inbound = new InboundChannel({ keys, receiveDirection: c.send });
          const [from, to] = c.down ? [p.manager, p.host] : [p.host, p.manager];
          // As the agents do: fragments as large as the queue's max_record (200 on bmc-oem, 960 on the serial path).
          const maxRecord = await from.maxRecord(c.queue);
          rates[path].push(
            await pump(from, to, c.queue, path === 'oem' ? o.oemSliceMs : o.solSliceMs, () => {
              const id = nextId++;
              return sealRecords({ keys, sendDirection: c.send, maxRecord, randomBytes: rng }, id, c.body(id), Date.now());
            }, (record) => {
              const ev = inbound.pushRecord(record, Date.now());
              if (ev?.kind === 'rejected') throw new Error(`receiver rejected a record: ${ev.code}`);
              return ev?.kind === 'delivered' ? encodeBody(ev.body).length : 0;
            }),
          );
        }
      }
      out.push({ name: c.name, bodyBytes: encodeBody(c.body(1)).length, oem: median(rates.oem), sol: median(rates.sol) });
    }
    return out;
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await bmc?.stop();
    await modem.close();
  }
}

/** Command latency over one stack (default tuning), destroy/start of web-1 one at a time. */
async function stackLatency(stack: VmsAgentStack, count: number): Promise<number[]> {
  await useDefaults(stack);
  const client = new JsonHttpClient(stack.url, stack.tokens.alice!);
  try {
    for (let i = 0; i < 2; i++) await runCommand(client, 'web-1', i % 2 === 0 ? 'destroy' : 'start'); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      ms.push((await runCommand(client, 'web-1', i % 2 === 0 ? 'destroy' : 'start')).ms);
      await sleep(500);
    }
    return ms;
  } finally {
    client.close();
  }
}

export async function runSolLatency(count: number): Promise<{ oem: number[]; sol: number[] }> {
  const oemStack = new VmsAgentStack();
  let oem: number[];
  try {
    await oemStack.start();
    oem = await stackLatency(oemStack, count);
  } finally {
    await oemStack.stop();
  }
  const modem = await NullModem.open({ bytesPerSecond: LINE_RATE });
  const solStack = new VmsAgentStack({
    bmcArgs: ['--sol-device', `tcp:127.0.0.1:${modem.ports.bmc}`],
    agent: { link: `tcp:127.0.0.1:${modem.ports.host}` },
    vmsConfig: { hostTransports: { 'hv-01': 'sol' } },
  });
  try {
    await solStack.start();
    return { oem, sol: await stackLatency(solStack, count) };
  } finally {
    await solStack.stop();
    await modem.close();
  }
}

export const solBench: Benchmark = {
  name: 'sol',
  description: 'goodput and command latency over Serial-over-LAN at 115200 baud vs the OEM-queue path and the line rate, same run',
  async run({ quick }) {
    const g = await runSolGoodput({ rounds: quick ? 1 : 3, oemSliceMs: quick ? 400 : 1500, solSliceMs: quick ? 2000 : 8000 });
    const metrics: Metric[] = [];
    for (const d of g) {
      metrics.push(metric(`SOL goodput ${d.name}, ${d.bodyBytes}-byte bodies, vs line rate`, d.sol, 'B/s', 'line rate 115200 baud 8N1', LINE_RATE));
      metrics.push(metric(`SOL goodput ${d.name} vs OEM queues`, d.sol, 'B/s', 'OEM-queue path, same bmc-oem, same run', d.oem));
    }
    const l = await runSolLatency(quick ? 2 : 10);
    metrics.push(metric('command latency over SOL (median, destroy/start web-1)', median(l.sol), 'ms', 'same over the OEM queues, same run (median)', median(l.oem), `SOL p-max ${Math.round(Math.max(...l.sol))} ms, OEM p-max ${Math.round(Math.max(...l.oem))} ms, ${l.sol.length} commands each`));
    return metrics;
  },
};
