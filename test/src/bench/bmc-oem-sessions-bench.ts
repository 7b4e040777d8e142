/**
 * Concurrent RMCP+ sessions held by one bmc-oem daemon (issue 4
 * "Benchmark", goal: 1,000 sessions under 200 MB RSS). A minimal RAKP
 * driver (bmc-oem-rakp-driver.ts: one socket for every session) opens the
 * sessions, suite 17, operator, Set Session Privilege Level included; then
 * every session must answer a Get Device ID (the count of those is
 * "sessions held"), and the daemon's VmRSS is read from /proc/PID/status.
 * Anchor, same run: the RSS of the same daemon idle before the sessions.
 *
 * The default bound `sessions.max` (1024) already admits 1,000; the idle
 * timeout is raised in the config so no session expires while the rest
 * are still being opened on a slow machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCommand, NetFn, Privilege } from '@backchannel/proto';
import { startBmcOem } from '../interop/ipmitool-bmc-oem.js';
import { metricSum, scrapeMetrics, vmRssKb } from './bmc-oem-process.js';
import { type DriverSession, RakpDriver } from './bmc-oem-rakp-driver.js';
import { type Benchmark, metric } from './metric.js';

/**
 * Handshakes in progress at once: well under the daemon's 128 pending
 * handshakes; the per-source bound (16 by default, every handshake here
 * comes from one socket) is raised to it in the config.
 */
const CONCURRENCY = 32;

export interface SessionsBenchResult {
  opened: number;
  /** Sessions that answered Get Device ID after all were opened. */
  held: number;
  /** The daemon's own count of active sessions (bmc_oem_sessions{state="active"}). */
  activeGauge: number;
  idleRssKb: number;
  loadedRssKb: number;
  /** Handshakes (Open Session, RAKP 1-4, Set Session Privilege) per second while opening. */
  opensPerSecond: number;
}

/** Runs `task` for 0..n-1 with at most `limit` at once. */
async function pool<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

export async function runSessionsBench(sessions: number): Promise<SessionsBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bmc-oem-sessions-bench-'));
  // The outer try removes the dir even when bmc-oem or the driver fails to start.
  try {
    const config = join(dir, 'bmc.json');
    writeFileSync(config, JSON.stringify({ sessions: { max: Math.max(1024, sessions + 24), perUser: sessions + 24, perSource: sessions + 24, perSourcePending: CONCURRENCY, idleTimeoutMs: 600_000 } }));
    const bmc = await startBmcOem([{ name: 'bench', privilege: 'operator', password: 'bench-secret' }], ['--config', config, '--metrics', '127.0.0.1:0']);
    try {
      const driver = await RakpDriver.open('127.0.0.1', bmc.port);
      try {
        await new Promise((resolve) => setTimeout(resolve, 500)); // let start-up garbage settle
        const idleRssKb = vmRssKb(bmc.pid);
        const start = performance.now();
        const opened: DriverSession[] = await pool(sessions, CONCURRENCY, () => driver.openSession({ user: 'bench', password: 'bench-secret', privilege: Privilege.OPERATOR, suite: 17 }));
        const opensPerSecond = sessions / ((performance.now() - start) / 1000);
        const answers = await pool(opened.length, CONCURRENCY, (i) =>
          driver.request(opened[i] as DriverSession, NetFn.APP, AppCommand.GET_DEVICE_ID).then(
            (r) => r.cc === 0,
            () => false,
          ),
        );
        const loadedRssKb = vmRssKb(bmc.pid);
        const activeGauge = metricSum(await scrapeMetrics(bmc.metricsPort ?? 0), 'bmc_oem_sessions', 'state="active"');
        return { opened: opened.length, held: answers.filter(Boolean).length, activeGauge, idleRssKb, loadedRssKb, opensPerSecond };
      } finally {
        await driver.close();
      }
    } finally {
      await bmc.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const bmcOemSessionsBench: Benchmark = {
  name: 'bmc-oem-sessions',
  description: 'RMCP+ sessions one bmc-oem holds and its RSS (goal: 1,000 sessions under 200 MB) vs the idle daemon',
  async run({ quick }) {
    const r = await runSessionsBench(quick ? 100 : 1000);
    const mb = (kb: number): number => kb / 1024;
    const perSession = (r.loadedRssKb - r.idleRssKb) / Math.max(1, r.held);
    return [
      metric(`bmc-oem RSS holding ${r.held} RMCP+ sessions`, mb(r.loadedRssKb), 'MB', 'the same daemon idle, before the sessions', mb(r.idleRssKb), `goal: 1,000 sessions under 200 MB; ${perSession.toFixed(1)} KiB per session`),
      metric('bmc-oem RMCP+ sessions held (each answered Get Device ID)', r.held, 'sessions', 'sessions opened', r.opened, `daemon gauge bmc_oem_sessions{state="active"} = ${r.activeGauge}; opened at ${Math.round(r.opensPerSecond)} handshakes/s, ${CONCURRENCY} at a time`),
    ];
  },
};
