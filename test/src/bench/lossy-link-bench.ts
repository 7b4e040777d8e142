/**
 * Command latency through the whole stack on a lossy BMC link, with the
 * default settings of every part (issue 18's acceptance):
 *
 *   vms-agent serve ──RMCP+──▶ UdpFaultProxy ──▶ bmc-oem ◀──VM (TCP)── hypervisor-agent (libvirt test driver)
 *
 * The proxy (test/src/faults/udp-proxy.ts) drops 20% of the datagrams in each
 * direction, duplicates 5%, holds 5% back behind the next one (reordering)
 * and delays 5% by 5-80 ms. Anchor, same run, same stack and processes: the
 * proxy passing everything. The two conditions alternate in blocks, so a
 * slow minute of the shared machine falls on both.
 *
 * Each command: POST destroy/start of web-1 ?wait (custodial principal:
 * vms-agent signs the challenge), long-polled to final, one at a time with a
 * pause after it. Reconnects are vms-agent's own count
 * (vms_agent_reconnects_total from /metrics); the goal is none under loss,
 * and a lossy p50 at most 3× the clean one.
 */
import { JsonHttpClient } from '../harness/json-http-client.js';
import { NO_FAULTS, UdpFaultProxy, type UdpFaults } from '../faults/udp-proxy.js';
import { VmsAgentStack } from '../vms-agent-e2e/stack.js';
import { type LatencySample, runCommand, sample, useDefaults } from './e2e-latency-bench.js';
import { type Benchmark, type Metric, metric, percentile } from './metric.js';

/** The lossy link, as the fault suite runs it (fault-profile.ts LINK_FAULTS). */
export const LOSSY_LINK: UdpFaults = { drop: 0.2, duplicate: 0.05, reorder: 0.05, delay: 0.05, delayMs: [5, 80] };

export interface LossyLinkOptions {
  /** Commands per condition, split into `blocks` alternating blocks. */
  commands: number;
  blocks: number;
  pauseMs: number;
  seed?: number;
}

export interface ConditionResult {
  samples: LatencySample[];
  /** Commands that did not end `applied` (timed out, failed). */
  failures: string[];
  /** vms_agent_reconnects_total went up by this much during this condition's blocks. */
  reconnects: number;
  /** Datagrams vms-agent sent towards bmc-oem (RMCP+ requests and retransmissions, idle polls in the pauses included), and datagrams the proxy dropped (both ways). */
  toBmc: number;
  dropped: number;
}

export interface LossyLinkResult {
  clean: ConditionResult;
  lossy: ConditionResult;
  /** Security alerts vms-agent received during the run (none is the only right answer: nothing here is an attack). */
  alerts: number;
  /** Why the link reconnected, from vms-agent's log ("link to BMC failed; reconnecting after back-off"). */
  reconnectReasons: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A counter's sum over its label sets in vms-agent's Prometheus text. */
async function counter(stack: VmsAgentStack, name: string): Promise<number> {
  const res = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.tokens.alice}` } });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

function emptyCondition(): ConditionResult {
  return { samples: [], failures: [], reconnects: 0, toBmc: 0, dropped: 0 };
}

async function block(stack: VmsAgentStack, proxy: UdpFaultProxy, faults: UdpFaults, into: ConditionResult, count: number, pauseMs: number, startIndex: number): Promise<void> {
  proxy.faults = faults;
  const reconnectsBefore = await counter(stack, 'vms_agent_reconnects_total');
  const stats0 = { ...proxy.stats };
  // The proxy's own counters add both directions up; a filter that passes everything sees each datagram and its direction.
  let toBmc = 0;
  proxy.filter = (direction) => {
    if (direction === 'to-target') toBmc++;
    return 'pass';
  };
  const client = new JsonHttpClient(stack.url, stack.tokens.alice!);
  try {
    for (let i = 0; i < count; i++) {
      const action = (startIndex + i) % 2 === 0 ? 'destroy' : 'start';
      try {
        const { ms, c } = await runCommand(client, 'web-1', action);
        into.samples.push(sample(ms, c));
      } catch (err) {
        into.failures.push((err as Error).message);
      }
      await sleep(pauseMs);
    }
  } finally {
    client.close();
    proxy.filter = null;
  }
  into.reconnects += (await counter(stack, 'vms_agent_reconnects_total')) - reconnectsBefore;
  into.toBmc += toBmc;
  into.dropped += proxy.stats.dropped - stats0.dropped;
}

export async function runLossyLink(options: LossyLinkOptions): Promise<LossyLinkResult> {
  let proxy: UdpFaultProxy | undefined;
  const stack = new VmsAgentStack({
    route: async ({ rmcpPort, vmPort }) => {
      proxy = await UdpFaultProxy.start({ targetPort: rmcpPort, faults: NO_FAULTS, seed: options.seed ?? 20_261_118 });
      return { rmcpPort: proxy.port, vmPort };
    },
  });
  try {
    await stack.start();
    // Every part with its defaults (the stack's tests poll faster), vms-agent's RMCP+ client included.
    await useDefaults(stack);
    const p = proxy!;
    const clean = emptyCondition();
    const lossy = emptyCondition();
    // Warm-up on the clean link: JIT, SQLite pages, the RMCP+ session's round-trip estimate.
    await block(stack, p, NO_FAULTS, emptyCondition(), 4, options.pauseMs, 0);
    const per = Math.ceil(options.commands / options.blocks);
    let index = 0;
    for (let b = 0; b < options.blocks; b++) {
      await block(stack, p, NO_FAULTS, clean, per, options.pauseMs, index);
      index += per;
      await block(stack, p, LOSSY_LINK, lossy, per, options.pauseMs, index);
      index += per;
    }
    const alerts = await counter(stack, 'vms_agent_alerts_received_total');
    const reconnectReasons = stack.vms.output
      .split('\n')
      .filter((l) => l.includes('reconnecting after back-off'))
      .map((l) => /"err":"((?:[^"\\]|\\.)*)"/.exec(l)?.[1] ?? l);
    return { clean, lossy, alerts, reconnectReasons };
  } finally {
    await stack.stop();
    await proxy?.close();
  }
}

function toMetrics(r: LossyLinkResult): Metric[] {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const total = (c: ConditionResult) => sorted(c.samples.map((s) => s.totalMs));
  const clean = total(r.clean);
  const lossy = total(r.lossy);
  const c50 = percentile(clean, 50);
  const c99 = percentile(clean, 99);
  const l50 = percentile(lossy, 50);
  const faults = '20% loss, 5% duplication, 5% reordering, 5% delayed 5-80 ms, each way between vms-agent and bmc-oem; default settings';
  const perCommand = (c: ConditionResult) => c.toBmc / Math.max(1, c.samples.length + c.failures.length);
  const out: Metric[] = [
    metric(
      'lossy link: command p50 (API → libvirt → API)',
      l50,
      'ms',
      'same stack, no loss, p50',
      c50,
      `${faults}; ${r.lossy.samples.length} applied, ${r.lossy.failures.length} failed; goal ratio <= 3`,
    ),
    metric('lossy link: command p99', percentile(lossy, 99), 'ms', 'same stack, no loss, p99', c99),
    metric('lossy link: vms-agent reconnects', r.lossy.reconnects, 'reconnects', 'reconnects without loss', r.clean.reconnects, `goal 0 under loss; ${r.alerts} security alerts in the whole run (must be 0)`),
    metric('lossy link: RMCP+ datagrams to bmc-oem per command', perCommand(r.lossy), 'datagrams', 'datagrams per command without loss', perCommand(r.clean), `${r.lossy.dropped} dropped by the relay under loss`),
  ];
  // Where the time goes: each step of the command's event trail (vms-agent's clock), lossy vs clean medians.
  const median = (c: ConditionResult, f: (s: LatencySample) => number) => percentile(sorted(c.samples.map(f)), 50);
  const steps: [string, (s: LatencySample) => number][] = [
    ['queued → sent (Put Record on queue 1)', (s) => s.phases.sent],
    ['sent → challenged (the agent reads it; challenge back on queue 2, read by Get polling)', (s) => s.phases.challenged - s.phases.sent],
    ['challenged → applied (response Put, verify, libvirt, result back by Get polling)', (s) => s.phases.final - s.phases.challenged],
  ];
  for (const [name, f] of steps) out.push(metric(`  lossy link phase p50: ${name}`, median(r.lossy, f), 'ms', 'same phase without loss', median(r.clean, f)));
  return out;
}

export const lossyLinkBench: Benchmark = {
  name: 'lossy-link',
  description: 'command latency with default settings on a 20%-loss / 5%-duplication / reordering BMC link vs the same stack without loss; reconnects',
  async run({ quick }) {
    const r = await runLossyLink(quick ? { commands: 8, blocks: 2, pauseMs: 200 } : { commands: 120, blocks: 6, pauseMs: 300 });
    if (r.reconnectReasons.length > 0) process.stderr.write(`lossy-link: vms-agent reconnected because:\n  ${r.reconnectReasons.join('\n  ')}\n`);
    if (r.clean.failures.length + r.lossy.failures.length > 0) {
      process.stderr.write(`lossy-link: failed commands:\n  ${[...r.clean.failures, ...r.lossy.failures].join('\n  ')}\n`);
    }
    return toMetrics(r);
  },
};
