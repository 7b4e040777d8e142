/**
 * End-to-end command latency: POST /v1/hosts/hv-01/domains/web-1/actions?wait
 * (custodial principal, so vms-agent signs the challenge for it) → RMCP+ Put
 * Record → bmc-oem → VM protocol → hypervisor-agent (challenge issued,
 * response verified, libvirt applied, result journaled) → back through
 * queue 2 → the POST's long-poll answers with the final command (a GET ?wait
 * follows only if that wait ran out). Every part is its real built daemon on
 * 127.0.0.1 (VmsAgentStack), run with its default configuration; the client
 * is node:http with keep-alive (JsonHttpClient).
 *
 * Anchor, same run: the same destroy/start through LibvirtAdapter
 * (libvirt's test driver) in the benchmark process.
 *
 * Idle link: one command at a time, with a pause after each so the status
 * report that follows a change and its acknowledgement are done. Busy link:
 * the same, while background workers keep read-only `domain_info`
 * commands in flight and the agent sends a status report every second.
 * Then the idle link once more with the request also signed by the custodial
 * key (vms-agent `custodialKeySignsRequests`): the request is then two BMC
 * records instead of one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Action } from '@backchannel/proto';
import { LibvirtAdapter } from '@backchannel/hypervisor-agent';
import type { CommandJson } from '@backchannel/vms-agent';
import { JsonHttpClient } from '../harness/json-http-client.js';
import { LIBVIRT_FIXTURE, VmsAgentStack } from '../vms-agent-e2e/stack.js';
import { type Benchmark, type Metric, metric, percentile } from './metric.js';


const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);

export interface LatencySample {
  totalMs: number;
  /** queued → sent → challenged → final, from the command's event trail (ms, vms-agent clock). */
  phases: { sent: number; challenged: number; final: number };
}

export interface E2eLatencyResult {
  idle: LatencySample[];
  busy: LatencySample[];
  /** Idle link again, requests also signed with the custodial key (two records instead of one). */
  idleSignedRequests: LatencySample[];
  /** Background commands completed during the busy phase, per second. */
  busyBackgroundRate: number;
  libvirtMs: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rewriteJson(path: string, edit: (config: Record<string, unknown>) => void): void {
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(path, JSON.stringify(config));
}

/** Restarts the stack's agent and vms-agent with their default tuning (the stack's tests run them faster). */
export async function useDefaults(stack: VmsAgentStack, agentReportSeconds?: number, vmsExtra: Record<string, unknown> = {}): Promise<void> {
  await Promise.all([stack.vms.stop(), stack.agent.stop()]);
  rewriteJson(join(stack.dir, 'vms-agent.json'), (c) => {
    delete c.pollMinMs;
    delete c.pollMaxMs;
    Object.assign(c, vmsExtra);
  });
  rewriteJson(join(stack.dir, 'agent', 'agent.json'), (c) => {
    delete c.poll;
    delete c.statePollSeconds;
    if (agentReportSeconds) c.reportIntervalSeconds = agentReportSeconds;
    else delete c.reportIntervalSeconds;
  });
  await stack.startAgent();
  await stack.startVms();
  await waitLinkUp(stack);
}

export async function waitLinkUp(stack: VmsAgentStack): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const { json } = await stack.api<{ hosts: { link: { state: string }; status: unknown }[] }>('GET', '/v1/hosts', 'alice');
    if (json.hosts[0]?.link.state === 'up' && json.hosts[0].status) return;
    await sleep(50);
  }
  throw new Error('the link to hv-01 did not come up with a status report');
}

export async function runCommand(client: JsonHttpClient, domain: string, action: string): Promise<{ ms: number; c: CommandJson }> {
  const start = performance.now();
  const posted = await client.request<CommandJson>('POST', `/v1/hosts/hv-01/domains/${domain}/actions?wait=10000`, { action });
  if (posted.status !== 202) throw new Error(`POST ${action} ${domain} answered ${posted.status}`);
  let c = posted.json;
  while (!FINAL.has(c.state)) c = (await client.request<CommandJson>('GET', `/v1/commands/${c.id}?wait=10000`)).json;
  const ms = performance.now() - start;
  if (c.state !== 'applied') throw new Error(`${action} ${domain} ended ${c.state}`);
  return { ms, c };
}

export function sample(ms: number, c: CommandJson): LatencySample {
  const at = (state: string) => (c.events.find((e) => e.state === state)?.atMs ?? Number.NaN) - c.createdAtMs;
  return { totalMs: ms, phases: { sent: at('sent'), challenged: at('challenged'), final: at('applied') } };
}

/** destroy/start web-1 alternately, one at a time, `pauseMs` between commands. */
async function measure(stack: VmsAgentStack, count: number, pauseMs: number): Promise<LatencySample[]> {
  const client = new JsonHttpClient(stack.url, stack.tokens.alice!);
  try {
    const out: LatencySample[] = [];
    for (let i = 0; i < count; i++) {
      const { ms, c } = await runCommand(client, 'web-1', i % 2 === 0 ? 'destroy' : 'start');
      out.push(sample(ms, c));
      await sleep(pauseMs);
    }
    return out;
  } finally {
    client.close();
  }
}

async function libvirtDirect(count: number): Promise<number[]> {
  const adapter = new LibvirtAdapter({ uri: `test://${LIBVIRT_FIXTURE}`, shutdownTimeoutMs: 5000 });
  try {
    await adapter.connect();
    const times: number[] = [];
    for (let i = 0; i < count + 5; i++) {
      const start = performance.now();
      // As the agent does it: the name resolved to libvirt's identity, then the action on that UUID.
      const resolved = await adapter.resolve('web-1');
      if (resolved.kind !== 'found') throw new Error(`libvirt direct: ${resolved.failure.code} ${resolved.failure.message}`);
      const r = await adapter.execute(i % 2 === 0 ? Action.ACTION_DESTROY : Action.ACTION_START, resolved.target);
      if (r.errorCode) throw new Error(`libvirt direct: ${r.errorCode} ${r.errorMessage}`);
      if (i >= 5) times.push(performance.now() - start); // the first calls warm the binding up
    }
    return times;
  } finally {
    await adapter.close();
  }
}

export async function runE2eLatency(options: { commands: number; pauseMs: number; busyWorkers: number }): Promise<E2eLatencyResult> {
  const libvirtMs = await libvirtDirect(options.commands);
  let idle: LatencySample[];
  let busy: LatencySample[];
  let busyBackgroundRate: number;
  const stack = new VmsAgentStack();
  try {
    await stack.start();
    await useDefaults(stack);
    await measure(stack, 4, options.pauseMs); // warm-up: JIT, SQLite pages, RMCP+ session
    idle = await measure(stack, options.commands, options.pauseMs);

    // Busy: status reports every second and background read-only commands in flight.
    await useDefaults(stack, 1);
    let stop = false;
    let background = 0;
    const backgroundClient = new JsonHttpClient(stack.url, stack.tokens.alice!, options.busyWorkers);
    const workers = Array.from({ length: options.busyWorkers }, async () => {
      while (!stop) {
        await runCommand(backgroundClient, 'db-1', 'domain_info');
        background++;
      }
    });
    const busyStart = performance.now();
    try {
      busy = await measure(stack, options.commands, 0);
    } finally {
      stop = true;
      await Promise.all(workers);
      backgroundClient.close();
    }
    busyBackgroundRate = background / ((performance.now() - busyStart) / 1000);
  } finally {
    await stack.stop();
  }
  const signed = new VmsAgentStack();
  try {
    await signed.start();
    await useDefaults(signed, undefined, { custodialKeySignsRequests: true });
    await measure(signed, 4, options.pauseMs);
    const idleSignedRequests = await measure(signed, options.commands, options.pauseMs);
    return { idle, busy, idleSignedRequests, busyBackgroundRate, libvirtMs };
  } finally {
    await signed.stop();
  }
}

function toMetrics(r: E2eLatencyResult): Metric[] {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const lib = sorted(r.libvirtMs);
  const lib50 = percentile(lib, 50);
  const lib99 = percentile(lib, 99);
  const anchor50 = 'libvirt direct p50 (LibvirtAdapter, test driver, in-process)';
  const anchor99 = 'libvirt direct p99';
  const out: Metric[] = [];
  for (const [link, samples] of [['idle', r.idle], ['busy', r.busy], ['idle (requests also signed: two records)', r.idleSignedRequests]] as const) {
    const total = sorted(samples.map((s) => s.totalMs));
    const p50 = percentile(total, 50);
    const busyNote = link === 'busy' ? `; ${r.busyBackgroundRate.toFixed(1)} background domain_info commands/s, status report every 1 s` : '';
    out.push(
      metric(`e2e latency p50, ${link.replace(' (', ' link (').replace(/^(idle|busy)$/, '$1 link')} (API → libvirt → API, custodial with challenge)`, p50, 'ms', anchor50, lib50, `${samples.length} commands${link === 'idle' ? '; goal <= 15 ms' : ''}${busyNote}`),
      metric(`e2e latency p99, ${link.replace(' (', ' link (').replace(/^(idle|busy)$/, '$1 link')}`, percentile(total, 99), 'ms', anchor99, lib99, link === 'idle' ? 'goal <= 60 ms' : undefined),
    );
    if (link === 'idle') {
      // Where the time goes: medians of each step of the command's event trail (vms-agent's clock), as shares of the total.
      const median = (f: (s: LatencySample) => number) => percentile(sorted(samples.map(f)), 50);
      const sent = median((s) => s.phases.sent);
      const challenged = median((s) => s.phases.challenged - s.phases.sent);
      const final = median((s) => s.phases.final - s.phases.challenged);
      const visible = median((s) => s.totalMs - s.phases.final);
      const anchor = 'e2e latency p50, idle link';
      out.push(
        metric('  phase queued → sent (sign, store, Put Record q1 x records)', sent, 'ms', anchor, p50),
        metric('  phase sent → challenged (agent reads, journals, challenge back on q2)', challenged, 'ms', anchor, p50),
        metric('  phase challenged → applied (response out, verify, libvirt, result back)', final, 'ms', anchor, p50),
        metric('  phase applied → seen by the API client (HTTP of the POST before queued and of its answer)', visible, 'ms', anchor, p50),
      );
    }
  }
  return out;
}

export const e2eLatencyBench: Benchmark = {
  name: 'e2e-latency',
  description: 'API → libvirt → API command latency (idle and busy link, p50/p99) vs calling libvirt directly',
  async run({ quick }) {
    const r = await runE2eLatency(quick ? { commands: 12, pauseMs: 250, busyWorkers: 2 } : { commands: 200, pauseMs: 300, busyWorkers: 4 });
    return toMetrics(r);
  },
};
