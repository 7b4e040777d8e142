/**
 * Get Device ID per second over one RMCP+ session: vms-agent's client (one
 * request in flight, and 8 in flight) against stock `ipmitool -I lanplus
 * ... exec FILE` (one session, N `raw 0x06 0x01` lines), same target, same
 * suite, same privilege, same run.
 *
 * Fairness:
 * - Every side answers the same number N of requests per round.
 * - ipmitool's rate is (N2 - N1) / (t2 - t1) over two exec runs of N1 and
 *   N1 + N lines, so its process start, session handshake and close cancel
 *   out and only the per-request cost counts. The client's handshake is
 *   outside its timing too (the session is opened first, then warmed up
 *   with a fixed number of requests, as ipmitool's first N1 are discounted).
 * - ipmitool writes its output to a file, not to a pipe this process
 *   would have to drain while it runs.
 * - With several rounds the sides alternate (ipmitool, client, ipmitool,
 *   client, ...) so a change in the shared machine's load hits both, and
 *   each figure is the median over the rounds.
 * The aim: the client at least 4x ipmitool's single-session rate.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCommand, NetFn } from '@backchannel/proto';
import { openSession, type RmcpSession } from '@backchannel/vms-agent/rmcp';
import { startBmcOem } from '../interop/ipmitool-bmc-oem.js';
import { startIpmiSim } from '../interop/rmcp-client-ipmi-sim.js';
import { type Benchmark, type Metric, metric } from './metric.js';

export interface RmcpClientBenchOptions {
  host: string;
  port: number;
  user: string;
  passwordFile: string;
  cipher: number;
  /** About how long ipmitool's measured run lasts; sizes N when `requests` is not given. */
  durationMs: number;
  /** Requests per side per round (N); default: ipmitool's probe rate × durationMs. */
  requests?: number;
  /** Rounds; each figure is the median over them. Default 1. */
  rounds?: number;
  /** Default administrator (ipmi_sim wants an explicit level). */
  privilege?: 'user' | 'operator' | 'administrator';
  /** Requests in flight for the parallel figure; default 8. */
  parallel?: number;
}

export interface RmcpClientBenchRound {
  clientRate: number;
  clientRateParallel: number;
  ipmitoolRate: number;
}

export interface RmcpClientBenchResult {
  /** Get Device ID per second, one in flight (median over rounds). */
  clientRate: number;
  /** Get Device ID per second, `parallel` in flight (median over rounds). */
  clientRateParallel: number;
  /** ipmitool exec, per-request rate (median over rounds). */
  ipmitoolRate: number;
  /** clientRate / ipmitoolRate. */
  ratio: number;
  /** clientRateParallel / ipmitoolRate. */
  ratioParallel: number;
  /** Requests each side answered per round. */
  requests: number;
  rounds: RmcpClientBenchRound[];
}

/** ipmitool's first lines, discounted: its start-up and handshake are in both runs. */
const IPMITOOL_BASE_LINES = 20;
const CLIENT_WARM_UP_REQUESTS = 300;
const PROBE_LINES = 300;
const MIN_REQUESTS = 500;
const MAX_REQUESTS = 50_000;

/** `count` Get Device ID requests with `inFlight` outstanding at a time; returns requests per second. */
async function measure(session: RmcpSession, count: number, inFlight: number): Promise<number> {
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < count) {
      issued++;
      const r = await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID);
      if (r.cc !== 0) throw new Error(`Get Device ID answered cc 0x${r.cc.toString(16)}`);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return count / ((performance.now() - start) / 1000);
}

/** Runs `ipmitool exec` over `lines` Get Device IDs; returns the wall time in ms. */
function ipmitoolExec(o: RmcpClientBenchOptions, dir: string, lines: number): number {
  const file = join(dir, `exec-${lines}.txt`);
  const out = join(dir, `out-${lines}.txt`);
  writeFileSync(file, 'raw 0x06 0x01\n'.repeat(lines));
  const fd = openSync(out, 'w');
  let r;
  const start = performance.now();
  try {
    r = spawnSync(
      'ipmitool',
      ['-I', 'lanplus', '-C', String(o.cipher), '-H', o.host, '-p', String(o.port), '-U', o.user, '-f', o.passwordFile, '-L', (o.privilege ?? 'administrator').toUpperCase(), 'exec', file],
      { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', fd, 'pipe'] },
    );
  } finally {
    closeSync(fd);
  }
  const elapsed = performance.now() - start;
  const answered = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => /^ [0-9a-f]{2}/.test(l)).length;
  if (r.status !== 0 || answered !== lines) throw new Error(`ipmitool exec answered ${answered}/${lines} (status ${r.status}): ${(r.stderr ?? '').slice(-500)}`);
  return elapsed;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** N such that ipmitool's measured run lasts about durationMs, from two short probe runs. */
function sizeRequests(o: RmcpClientBenchOptions, dir: string): number {
  const extra = PROBE_LINES;
  const t1 = ipmitoolExec(o, dir, IPMITOOL_BASE_LINES);
  const t2 = ipmitoolExec(o, dir, IPMITOOL_BASE_LINES + extra);
  const perRequestMs = Math.max((t2 - t1) / extra, 0.01);
  return Math.max(MIN_REQUESTS, Math.min(MAX_REQUESTS, Math.round(o.durationMs / perRequestMs)));
}

export async function runRmcpClientBench(o: RmcpClientBenchOptions): Promise<RmcpClientBenchResult> {
  const password = readFileSync(o.passwordFile, 'utf8').split(/\r?\n/)[0] ?? '';
  const roundsWanted = Math.max(1, Math.floor(o.rounds ?? 1));
  const session = await openSession({ host: o.host, port: o.port, user: o.user, password, privilege: o.privilege ?? 'administrator', cipherSuites: [o.cipher], keepAliveMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'rmcp-bench-'));
  try {
    await measure(session, CLIENT_WARM_UP_REQUESTS, 1);
    const n = o.requests ?? sizeRequests(o, dir);
    const rounds: RmcpClientBenchRound[] = [];
    for (let i = 0; i < roundsWanted; i++) {
      const t1 = ipmitoolExec(o, dir, IPMITOOL_BASE_LINES);
      const t2 = ipmitoolExec(o, dir, IPMITOOL_BASE_LINES + n);
      // Start-up jitter can exceed a short run's length; then fall back to the plain rate of the long run.
      const ipmitoolRate = t2 > t1 ? n / ((t2 - t1) / 1000) : (IPMITOOL_BASE_LINES + n) / (t2 / 1000);
      const clientRate = await measure(session, n, 1);
      const clientRateParallel = await measure(session, n, o.parallel ?? 8);
      rounds.push({ clientRate, clientRateParallel, ipmitoolRate });
    }
    const clientRate = median(rounds.map((r) => r.clientRate));
    const clientRateParallel = median(rounds.map((r) => r.clientRateParallel));
    const ipmitoolRate = median(rounds.map((r) => r.ipmitoolRate));
    return { clientRate, clientRateParallel, ipmitoolRate, ratio: clientRate / ipmitoolRate, ratioParallel: clientRateParallel / ipmitoolRate, requests: n, rounds };
  } finally {
    await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function toMetrics(target: string, cipher: number, r: RmcpClientBenchResult): Metric[] {
  const anchor = `ipmitool exec (${target}, -C ${cipher})`;
  const conditions = `median of ${r.rounds.length} round(s), ${r.requests} requests per side per round`;
  return [
    metric(`rmcp-client Get Device ID, 1 in flight (${target}, suite ${cipher})`, r.clientRate, 'req/s', anchor, r.ipmitoolRate, `aim: >= 4x ipmitool; ${conditions}`),
    metric(`rmcp-client Get Device ID, 8 in flight (${target}, suite ${cipher})`, r.clientRateParallel, 'req/s', anchor, r.ipmitoolRate, conditions),
  ];
}

/** For the bench registry: against bmc-oem (suites 17 and 3) and ipmi_sim (suite 3). */
export const rmcpClientBench: Benchmark = {
  name: 'rmcp-client',
  description: 'Get Device ID/s over one RMCP+ session: vms-agent client (1 and 8 in flight) vs ipmitool exec',
  async run({ quick }) {
    const durationMs = quick ? 500 : 2000;
    const rounds = quick ? 1 : 3;
    const metrics: Metric[] = [];
    const bmc = await startBmcOem([{ name: 'bench', privilege: 'administrator', password: 'bench-secret' }]);
    try {
      for (const cipher of [17, 3]) {
        const r = await runRmcpClientBench({ host: '127.0.0.1', port: bmc.port, user: 'bench', passwordFile: bmc.passwordFile('bench'), cipher, durationMs, rounds });
        metrics.push(...toMetrics('bmc-oem', cipher, r));
      }
    } finally {
      await bmc.stop();
    }
    const sim = await startIpmiSim();
    try {
      const r = await runRmcpClientBench({ host: sim.host, port: sim.port, user: sim.user, passwordFile: sim.passwordFile, cipher: 3, durationMs, rounds });
      metrics.push(...toMetrics('ipmi_sim', 3, r));
    } finally {
      await sim.stop();
    }
    return metrics;
  },
};
