/**
 * Fleet: one `vms-agent serve` (the real binary, SQLite, default link
 * tuning) driving 1, then 100, then 1,000 simulated hosts. The hosts run in
 * simulator processes (fleet-sim-main.js, up to `hostsPerSim` hosts each):
 * a real bmc-oem daemon and a real hypervisor-agent per host, status report
 * every 10 s. A steady, open-loop command rate (destroy/start of web-1,
 * round-robin over the hosts, 1 command/s per 100 hosts) runs through the
 * API as a custodial principal.
 *
 * Figures for vms-agent only (from /proc/PID): CPU (cores, utime+stime over
 * the window), peak RSS, missed status reports (a host whose agent is more
 * than one report ahead of what vms-agent holds), command latency p50/p99.
 * Anchors, same run: the previous scale (ratio = scaling), and for the
 * smallest scale an idle vms-agent (same store, no hosts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { encodePublicKey, generateSigningKeyPair } from '@backchannel/proto';
import { formatMasterKey, hashToken, newToken, SecretBox, SqliteStore } from '@backchannel/vms-agent';
import { ManagedProcess } from '../harness/managed-process.js';
import { VMS_AGENT_MAIN } from '../vms-agent-e2e/stack.js';
import type { FleetSimOptions, SimHost } from './fleet-sim.js';
import { type Benchmark, type Metric, metric, percentile } from './metric.js';

const SIM_MAIN = fileURLToPath(new URL('./fleet-sim-main.js', import.meta.url));
const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

export interface FleetOptions {
  hosts: number;
  hostsPerSim: number;
  windowMs: number;
  reportIntervalMs: number;
  commandsPerSecond: number;
  dir: string;
}

export interface FleetFigures {
  hosts: number;
  /** vms-agent CPU over the window, in cores (1 = one core busy). */
  cpuCores: number;
  rssPeakMiB: number;
  /** Simulator processes' CPU over the window, in cores (context: they share the machine). */
  simCpuCores: number;
  /** Worst simulator's event-loop delay p99 over the window (is the simulator keeping up?). */
  simLoopP99Ms: number;
  /** vms-agent GET /healthz round trip p99 over the window (its event loop's responsiveness). */
  healthP99Ms: number;
  latenciesMs: number[];
  /** Median ms from queued to sent, sent to challenged, challenged to applied (vms-agent's event trail). */
  phasesMs: { sent: number; challenged: number; applied: number };
  commandsFailed: number;
  /** Reports the agents sent during the window, and how many never became vms-agent's latest. */
  reportsExpected: number;
  reportsMissed: number;
  setupMs: number;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
}

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** A simulator child process speaking the line protocol of fleet-sim-main. */
class SimProcess {
  readonly child: ChildProcess;
  readonly #waiters: ((msg: Record<string, unknown>) => void)[] = [];
  /** Lines that came before anyone asked (a simulator may be ready before the previous one). */
  readonly #unread: Record<string, unknown>[] = [];
  #stderr = '';

  constructor(optionsFile: string) {
    this.child = spawn(process.execPath, [SIM_MAIN, optionsFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-4000)));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{"ready"') && !line.startsWith('{"stats"')) return; // pino lines of the simulated daemons
      const msg = JSON.parse(line) as Record<string, unknown>;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(msg);
      else this.#unread.push(msg);
    });
  }

  next(timeoutMs: number): Promise<Record<string, unknown>> {
    const early = this.#unread.shift();
    if (early) return Promise.resolve(early);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fleet simulator did not answer within ${timeoutMs} ms: ${this.#stderr}`)), timeoutMs);
      this.child.once('exit', (code) => reject(new Error(`fleet simulator exited ${code}: ${this.#stderr}`)));
      this.#waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  /** Each host's report sequence, and the simulator's event-loop delay p99 since the last call. */
  async stats(): Promise<{ seqs: Record<string, number>; loopP99Ms: number }> {
    const reply = this.next(30_000);
    this.child.stdin!.write('stats\n');
    const r = await reply;
    return { seqs: r.stats as Record<string, number>, loopP99Ms: (r.loop as { p99Ms: number }).p99Ms };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end('stop\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

interface Setup {
  token: string;
  configFile: string;
}

/** The vms-agent store, made with the library the CLI uses: master key, alice (custodial) and her token, and the hosts. */
async function makeStore(dir: string, hosts: SimHost[], alice: { publicKey: string; seed: Uint8Array }): Promise<Setup> {
  const masterKey = randomBytes(32);
  const masterKeyFile = join(dir, 'master.key');
  writeFileSync(masterKeyFile, formatMasterKey(masterKey), { mode: 0o600 });
  const db = join(dir, 'vms.db');
  const store = new SqliteStore({ path: db, secrets: new SecretBox(masterKey, randomBytes) });
  const now = Date.now();
  await store.addPrincipal({ name: 'alice', publicKey: alice.publicKey, secretKey: alice.seed }, now);
  const token = newToken(randomBytes);
  await store.addToken({ hash: hashToken(token), principal: 'alice', label: 'fleet bench' }, now);
  for (const h of hosts) {
    await store.addHost(
      { id: h.id, bmcAddress: '127.0.0.1', bmcPort: h.rmcpPort, bmcUser: 'oper', bmcPassword: 'oper-fleet-pw', bmcPrivilege: 'operator', cipherSuites: [17], iana: 32473, seed: new Uint8Array(Buffer.from(h.seed, 'base64')), hostPublicKey: h.hostPublicKey },
      now,
    );
  }
  await store.close();
  const configFile = join(dir, 'vms-agent.json');
  writeFileSync(configFile, JSON.stringify({ db, masterKeyFile, logLevel: 'warn' }));
  return { token, configFile };
}

async function startVms(configFile: string): Promise<{ proc: ManagedProcess; url: string }> {
  const proc = await ManagedProcess.start({
    name: 'vms-agent',
    command: process.execPath,
    args: [VMS_AGENT_MAIN, 'serve', '--listen', '127.0.0.1:0', '--config', configFile],
    env: { ...process.env, BACKCHANNEL_LOG_LEVEL: 'info' },
    readyWhen: /"address":"(http:\/\/127\.0\.0\.1:\d+)"/,
    readyTimeoutMs: 60_000,
  });
  return { proc, url: /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(proc.output)![1]! };
}

interface CommandView {
  id: string;
  state: string;
  createdAtMs: number;
  events?: { atMs: number; state: string }[];
}

interface HostView {
  id: string;
  link: { state: string };
  status: { reportSeq: number; ageMs: number } | null;
}

async function api<T>(url: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** An idle vms-agent (no hosts): the anchor of the smallest fleet's CPU and memory. */
export async function measureIdle(windowMs: number): Promise<{ cpuCores: number; rssPeakMiB: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-idle-'));
  let vms: { proc: ManagedProcess; url: string } | undefined;
  try {
    const alice = generateSigningKeyPair(randomBytes);
    const setup = await makeStore(dir, [], { publicKey: encodePublicKey(alice.publicKey), seed: alice.secretKey.subarray(0, 32) });
    vms = await startVms(setup.configFile);
    await sleep(2000);
    const t0 = cpuTicks(vms.proc.pid);
    const w0 = performance.now();
    let rss = 0;
    while (performance.now() - w0 < windowMs) {
      rss = Math.max(rss, rssMiB(vms.proc.pid));
      await sleep(500);
    }
    return { cpuCores: (cpuTicks(vms.proc.pid) - t0) / CLOCK_TICKS_PER_SECOND / ((performance.now() - w0) / 1000), rssPeakMiB: rss };
  } finally {
    await vms?.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runFleet(o: FleetOptions): Promise<FleetFigures> {
  const setupStart = performance.now();
  const alice = generateSigningKeyPair(randomBytes);
  const alicePublic = encodePublicKey(alice.publicKey);
  const sims: SimProcess[] = [];
  let vms: { proc: ManagedProcess; url: string } | undefined;
  try {
    const hosts: SimHost[] = [];
    for (let first = 0; first < o.hosts; first += o.hostsPerSim) {
      const simOptions: FleetSimOptions = {
        prefix: 'hv-', first, count: Math.min(o.hostsPerSim, o.hosts - first), dir: join(o.dir, `sim-${first}`), bmcUser: 'oper', bmcPassword: 'oper-fleet-pw',
        admins: { alice: alicePublic }, reportIntervalMs: o.reportIntervalMs,
      };
      const file = join(o.dir, `sim-${first}.json`);
      writeFileSync(file, JSON.stringify(simOptions));
      sims.push(new SimProcess(file));
    }
    for (const sim of sims) hosts.push(...((await sim.next(600_000)).ready as SimHost[]));
    const setup = await makeStore(o.dir, hosts, { publicKey: alicePublic, seed: alice.secretKey.subarray(0, 32) });
    vms = await startVms(setup.configFile);
    const call = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => api<T>(vms!.url, setup.token, method, path, body);

    // Every link up and every host's first status report in.
    const upDeadline = performance.now() + 300_000;
    for (;;) {
      const { json } = await call<{ hosts: HostView[] }>('GET', '/v1/hosts');
      const ready = json.hosts.filter((h) => h.link.state === 'up' && h.status).length;
      if (ready === o.hosts) break;
      if (performance.now() > upDeadline) throw new Error(`only ${ready}/${o.hosts} hosts up with a status report after 300 s`);
      await sleep(1000);
    }
    const setupMs = performance.now() - setupStart;
    await sleep(Math.min(5000, o.reportIntervalMs)); // settle: handshakes and first reports are not the steady state

    const vmsPid = vms.proc.pid;
    const simPids = sims.map((s) => s.child.pid!);
    const seqStart = Object.assign({}, ...(await Promise.all(sims.map(async (s) => (await s.stats()).seqs)))) as Record<string, number>;
    const cpu0 = cpuTicks(vmsPid);
    const simCpu0 = simPids.reduce((a, p) => a + cpuTicks(p), 0);
    const w0 = performance.now();

    // Open-loop commands: one every 1/rate s, round-robin, destroy then start web-1 on each host.
    const latenciesMs: number[] = [];
    const phases: { sent: number[]; challenged: number[]; applied: number[] } = { sent: [], challenged: [], applied: [] };
    let commandsFailed = 0;
    const next = new Map<string, 'destroy' | 'start'>();
    const inFlight = new Set<Promise<void>>();
    let issued = 0;
    const issue = (hostId: string): void => {
      const action = next.get(hostId) ?? 'destroy';
      next.set(hostId, action === 'destroy' ? 'start' : 'destroy');
      const p = (async () => {
        const start = performance.now();
        try {
          const posted = await call<CommandView>('POST', `/v1/hosts/${hostId}/domains/web-1/actions`, { action });
          let c = posted.json;
          while (!['applied', 'denied', 'failed', 'expired'].includes(c.state) && performance.now() - start < 60_000) {
            c = (await call<CommandView>('GET', `/v1/commands/${c.id}?wait=30000`)).json;
          }
          if (c.state !== 'applied') {
            commandsFailed++;
            return;
          }
          latenciesMs.push(performance.now() - start);
          const at = (state: string) => ((c as CommandView).events?.find((e) => e.state === state)?.atMs ?? Number.NaN) - (c as CommandView).createdAtMs;
          phases.sent.push(at('sent'));
          phases.challenged.push(at('challenged') - at('sent'));
          phases.applied.push(at('applied') - at('challenged'));
        } catch {
          commandsFailed++;
        }
      })();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    let rss = 0;
    let nextRss = 0;
    // vms-agent's responsiveness: GET /healthz round trips through the window.
    const healthMs: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const t = performance.now();
        const ok = await fetch(`${vms!.url}/healthz`).then((r) => r.arrayBuffer().then(() => r.ok), () => false);
        if (ok) healthMs.push(performance.now() - t);
        await sleep(250);
      }
    })();
    while (performance.now() - w0 < o.windowMs) {
      const due = Math.floor(((performance.now() - w0) / 1000) * o.commandsPerSecond);
      while (issued < due && inFlight.size < 200) issue(hosts[issued++ % hosts.length]!.id);
      if (performance.now() >= nextRss) {
        rss = Math.max(rss, rssMiB(vmsPid));
        nextRss = performance.now() + 1000;
      }
      await sleep(20);
    }
    probing = false;
    await prober;
    const wallS = (performance.now() - w0) / 1000;
    const cpuCores = (cpuTicks(vmsPid) - cpu0) / CLOCK_TICKS_PER_SECOND / wallS;
    const simCpuCores = (simPids.reduce((a, p) => a + cpuTicks(p), 0) - simCpu0) / CLOCK_TICKS_PER_SECOND / wallS;
    rss = Math.max(rss, rssMiB(vmsPid));

    // Missed reports: what vms-agent holds vs what each agent has sent (one report may still be in flight).
    const { json } = await call<{ hosts: HostView[] }>('GET', '/v1/hosts');
    const endStats = await Promise.all(sims.map((s) => s.stats()));
    const seqEnd = Object.assign({}, ...endStats.map((e) => e.seqs)) as Record<string, number>;
    const simLoopP99Ms = Math.max(...endStats.map((e) => e.loopP99Ms));
    let reportsExpected = 0;
    let reportsMissed = 0;
    for (const h of json.hosts) {
      const sent = (seqEnd[h.id] ?? 0) - (seqStart[h.id] ?? 0);
      reportsExpected += sent;
      reportsMissed += Math.max(0, (seqEnd[h.id] ?? 0) - (h.status?.reportSeq ?? 0) - 1);
    }
    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(inFlight), new Promise((r) => (drainTimer = setTimeout(r, 30_000)))]);
    clearTimeout(drainTimer);
    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    const phasesMs = { sent: median(phases.sent), challenged: median(phases.challenged), applied: median(phases.applied) };
    const healthP99Ms = percentile([...healthMs].sort((a, b) => a - b), 99);
    return { hosts: o.hosts, cpuCores, rssPeakMiB: rss, simCpuCores, simLoopP99Ms, healthP99Ms, latenciesMs, phasesMs, commandsFailed, reportsExpected, reportsMissed, setupMs };
  } finally {
    await vms?.proc.stop(10_000);
    await Promise.all(sims.map((s) => s.stop()));
  }
}

function toMetrics(idle: { cpuCores: number; rssPeakMiB: number }, runs: FleetFigures[]): Metric[] {
  const out: Metric[] = [];
  runs.forEach((r, i) => {
    const prev = runs[i - 1];
    const anchorName = prev ? `same at ${prev.hosts} host(s)` : 'idle vms-agent (no hosts)';
    const lat = [...r.latenciesMs].sort((a, b) => a - b);
    const goal = r.hosts >= 1000 ? 'goal: under one core and 1 GiB; ' : '';
    out.push(
      metric(`fleet ${r.hosts} hosts: vms-agent CPU`, r.cpuCores, 'cores', anchorName, prev ? prev.cpuCores : idle.cpuCores, `${goal}/healthz p99 ${r.healthP99Ms.toFixed(1)} ms; simulators ${r.simCpuCores.toFixed(2)} cores, event-loop delay p99 ${r.simLoopP99Ms.toFixed(0)} ms; setup ${Math.round(r.setupMs / 1000)} s`),
      metric(`fleet ${r.hosts} hosts: vms-agent peak RSS`, r.rssPeakMiB, 'MiB', anchorName, prev ? prev.rssPeakMiB : idle.rssPeakMiB),
      metric(`fleet ${r.hosts} hosts: missed status reports`, r.reportsMissed, 'reports', 'status reports sent in the window', r.reportsExpected, 'ratio = share missed'),
    );
    if (prev && prev.latenciesMs.length > 0 && lat.length > 0) {
      const p = [...prev.latenciesMs].sort((a, b) => a - b);
      out.push(
        metric(
          `fleet ${r.hosts} hosts: command latency p50`, percentile(lat, 50), 'ms', anchorName, percentile(p, 50),
          `${lat.length} applied, ${r.commandsFailed} not; medians queued→sent ${r.phasesMs.sent} ms, →challenged ${r.phasesMs.challenged} ms, →applied ${r.phasesMs.applied} ms`,
        ),
        metric(`fleet ${r.hosts} hosts: command latency p99`, percentile(lat, 99), 'ms', anchorName, percentile(p, 99)),
      );
    }
  });
  return out;
}

export const fleetBench: Benchmark = {
  name: 'fleet',
  description: 'one vms-agent driving 1, 100 and 1,000 simulated hosts (reports every 10 s, steady commands): CPU, RSS, missed reports, latency',
  async run({ quick }) {
    const scales = quick ? [2, 10] : [1, 100, 1000];
    const idle = await measureIdle(quick ? 2000 : 10_000);
    const runs: FleetFigures[] = [];
    for (const hosts of scales) {
      const dir = mkdtempSync(join(tmpdir(), `fleet-${hosts}-`));
      try {
        runs.push(
          await runFleet({
            hosts,
            hostsPerSim: 500,
            windowMs: quick ? 5000 : hosts === 1 ? 20_000 : 60_000,
            reportIntervalMs: quick ? 2000 : 10_000,
            commandsPerSecond: quick ? 2 : Math.max(1, hosts / 100),
            dir,
          }),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return toMetrics(idle, runs);
  },
};
