/**
 * Get Device ID per second over one RMCP+ session: vms-agent's client (one
 * request in flight, and 8 in flight) against stock `ipmitool -I lanplus
 * ... exec FILE` (one session, N `raw 0x06 0x01` lines), same target, same
 * suite, same run.
 *
 * ipmitool's rate is taken from two runs of different lengths,
 * (N2 - N1) / (t2 - t1), so its process start and session handshake cancel
 * out and only the per-request cost is compared. The aim: the client
 * at least 4x ipmitool's single-session rate.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  durationMs: number;
  /** Default administrator (ipmi_sim wants an explicit level). */
  privilege?: 'user' | 'operator' | 'administrator';
  /** Requests in flight for the parallel figure; default 8. */
  parallel?: number;
}

export interface RmcpClientBenchResult {
  /** Get Device ID per second, one in flight. */
  clientRate: number;
  /** Get Device ID per second, `parallel` in flight. */
  clientRateParallel: number;
  /** ipmitool exec, per-request rate. */
  ipmitoolRate: number;
  /** clientRate / ipmitoolRate. */
  ratio: number;
}

async function measure(session: RmcpSession, durationMs: number, inFlight: number): Promise<number> {
  const start = performance.now();
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() - start < durationMs) {
      const r = await session.request(NetFn.APP, AppCommand.GET_DEVICE_ID);
      if (r.cc !== 0) throw new Error(`Get Device ID answered cc 0x${r.cc.toString(16)}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done / ((performance.now() - start) / 1000);
}

function ipmitoolExec(o: RmcpClientBenchOptions, dir: string, lines: number): number {
  const file = join(dir, `exec-${lines}.txt`);
  writeFileSync(file, 'raw 0x06 0x01\n'.repeat(lines));
  const start = performance.now();
  const r = spawnSync(
    'ipmitool',
    ['-I', 'lanplus', '-C', String(o.cipher), '-H', o.host, '-p', String(o.port), '-U', o.user, '-f', o.passwordFile, '-L', (o.privilege ?? 'administrator').toUpperCase(), 'exec', file],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const elapsed = performance.now() - start;
  const answered = r.stdout.split('\n').filter((l) => /^ [0-9a-f]{2}/.test(l)).length;
  if (r.status !== 0 || answered !== lines) throw new Error(`ipmitool exec answered ${answered}/${lines} (status ${r.status}): ${r.stderr.slice(-500)}`);
  return elapsed;
}

export async function runRmcpClientBench(o: RmcpClientBenchOptions): Promise<RmcpClientBenchResult> {
  const password = readFileSync(o.passwordFile, 'utf8').split(/\r?\n/)[0] ?? '';
  const session = await openSession({ host: o.host, port: o.port, user: o.user, password, privilege: o.privilege ?? 'administrator', cipherSuites: [o.cipher], keepAliveMs: 0 });
  let clientRate: number;
  let clientRateParallel: number;
  try {
    await measure(session, Math.min(200, o.durationMs / 4), 1); // warm-up
    clientRate = await measure(session, o.durationMs, 1);
    clientRateParallel = await measure(session, o.durationMs, o.parallel ?? 8);
  } finally {
    await session.close();
  }
  // Size ipmitool's runs to about durationMs from the client's rate, assuming ipmitool is slower.
  const dir = mkdtempSync(join(tmpdir(), 'rmcp-bench-'));
  try {
    const n1 = 20;
    const t1 = ipmitoolExec(o, dir, n1);
    const perRequest = t1 / n1;
    const n2 = Math.max(n1 * 3, Math.min(20_000, Math.round(o.durationMs / Math.max(perRequest, 0.05))));
    const t2 = ipmitoolExec(o, dir, n2);
    const ipmitoolRate = t2 > t1 ? (n2 - n1) / ((t2 - t1) / 1000) : n2 / (t2 / 1000);
    return { clientRate, clientRateParallel, ipmitoolRate, ratio: clientRate / ipmitoolRate };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function toMetrics(target: string, cipher: number, r: RmcpClientBenchResult): Metric[] {
  const anchor = `ipmitool exec (${target}, -C ${cipher})`;
  return [
    metric(`rmcp-client Get Device ID, 1 in flight (${target}, suite ${cipher})`, r.clientRate, 'req/s', anchor, r.ipmitoolRate, 'aim: >= 4x ipmitool'),
    metric(`rmcp-client Get Device ID, 8 in flight (${target}, suite ${cipher})`, r.clientRateParallel, 'req/s', anchor, r.ipmitoolRate),
  ];
}

/** For the bench registry: against bmc-oem (suite 17) and ipmi_sim (suite 3). */
export const rmcpClientBench: Benchmark = {
  name: 'rmcp-client',
  description: 'Get Device ID/s over one RMCP+ session: vms-agent client (1 and 8 in flight) vs ipmitool exec',
  async run({ quick }) {
    const durationMs = quick ? 500 : 3000;
    const metrics: Metric[] = [];
    const bmc = await startBmcOem([{ name: 'bench', privilege: 'administrator', password: 'bench-secret' }]);
    try {
      const r = await runRmcpClientBench({ host: '127.0.0.1', port: bmc.port, user: 'bench', passwordFile: bmc.passwordFile('bench'), cipher: 17, durationMs });
      metrics.push(...toMetrics('bmc-oem', 17, r));
    } finally {
      await bmc.stop();
    }
    const sim = await startIpmiSim();
    try {
      const r = await runRmcpClientBench({ host: sim.host, port: sim.port, user: sim.user, passwordFile: sim.passwordFile, cipher: 3, durationMs });
      metrics.push(...toMetrics('ipmi_sim', 3, r));
    } finally {
      await sim.stop();
    }
    return metrics;
  },
};
