/**
 * One fault-injection run against the real chain (docs/fault-injection.md):
 *
 *   vms-agent serve ─RMCP+─▶ UdpFaultProxy ─▶ bmc-oem ◀─ TcpCutProxy ◀─VM protocol─ hypervisor-agent
 *
 * The proxies drop, duplicate, reorder and delay datagrams and cut the TCP
 * link; a schedule kills each process with SIGKILL and restarts it; a pool
 * of workers drives the seeded command script through the REST API. Then
 * every command must be final, and the store, the agent's journal, its
 * apply log and libvirt must agree (invariants.ts).
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmsAgentStack } from '../vms-agent-e2e/stack.js';
import type { CommandJson } from '@backchannel/vms-agent';
import { ApiDriver } from './api-driver.js';
import { ApplyLog } from './apply-log.js';
import { CommandScript, FAULT_FIXTURE, FIXTURE_DOMAINS } from './command-script.js';
import { CrashSchedule, type KillRecord, planKills } from './crash-schedule.js';
import type { FaultProfile, Victim } from './fault-profile.js';
import { checkRun, FINAL_STATES, type Verdict } from './invariants.js';
import { readAgentJournal, readVmsAlerts, readVmsCommands } from './journals.js';
import { TcpCutProxy } from './tcp-cut-proxy.js';
import { NO_FAULTS, UdpFaultProxy, type UdpProxyStats } from './udp-proxy.js';

const HOST = 'hv-01';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FaultRunSummary {
  profile: FaultProfile;
  durationMs: number;
  driveMs: number;
  commands: number;
  accepted: number;
  uncertainPosts: number;
  outcomes: Record<string, number>;
  applications: number;
  interrupted: number;
  udp: UdpProxyStats;
  tcp: { connections: number; cuts: number };
  kills: Record<Victim, number>;
  killLog: KillRecord[];
  agentIncarnations: number;
  verdict: Verdict;
  /** Logs, databases and the summary of a failed run, kept for a look. */
  keptAt: string | null;
}

export async function runFaults(profile: FaultProfile, say: (line: string) => void = () => undefined): Promise<FaultRunSummary> {
  const t0 = Date.now();
  let udp: UdpFaultProxy | undefined;
  let tcp: TcpCutProxy | undefined;
  const stack = new VmsAgentStack({
    libvirtFixture: FAULT_FIXTURE,
    vmsConfig: { ...(profile.rmcpTimeoutMs !== undefined ? { rmcpTimeoutMs: profile.rmcpTimeoutMs } : {}), ...(profile.rmcpRetries !== undefined ? { rmcpRetries: profile.rmcpRetries } : {}) },
    // Periodic reports every 10 s (changes are still reported at once): queue 2 is for results first.
    agentConfig: { reportIntervalSeconds: 10 },
    route: async ({ rmcpPort, vmPort }) => {
      udp = await UdpFaultProxy.start({ targetPort: rmcpPort, faults: NO_FAULTS, seed: profile.seed });
      tcp = await TcpCutProxy.start({ targetPort: vmPort, cutProbability: 0, seed: profile.seed ^ 0x7c9 });
      return { rmcpPort: udp.port, vmPort: tcp.port };
    },
  });
  const applyLog = new ApplyLog();
  let summary: FaultRunSummary | undefined;
  try {
    await stack.start();
    applyLog.follow(stack.agent);
    const driver = new ApiDriver(stack, HOST);
    const script = new CommandScript(profile.seed);
    const kills = new CrashSchedule(planKills(profile.seed, profile.commands, profile.killsPerProcess, profile.downMs), {
      crashAndRestart: async (victim, downMs) => {
        say(`  kill -9 ${victim} after ${driver.issued} commands issued (down ${downMs} ms)`);
        if (victim === 'bmc-oem') {
          await stack.bmc.crash();
          await sleep(downMs);
          await stack.startBmc(`127.0.0.1:${stack.rmcpPort}`, `tcp:127.0.0.1:${stack.vmPort}`);
        } else if (victim === 'hypervisor-agent') {
          await stack.agent.crash();
          await sleep(downMs);
          await stack.startAgent();
          applyLog.follow(stack.agent);
        } else {
          await stack.vms.crash();
          await sleep(downMs);
          await stack.startVms();
        }
      },
    });
    udp!.faults = profile.udp;
    tcp!.cutProbability = profile.cutProbability;
    say(`fault run "${profile.name}", seed ${profile.seed}: ${profile.commands} commands, ${profile.concurrency} in flight, udp ${JSON.stringify(profile.udp)}, tcp cut ${profile.cutProbability}/chunk, ${kills.planned} kills`);

    // Drive: workers take the next scripted command until enough were accepted.
    const tDrive = Date.now();
    const progress = setInterval(() => {
      void driver
        .get<{ hosts: { link: { state: string; unacked: number } }[] }>('/v1/hosts', Date.now() + 2000)
        .then((r) => `link ${r.json.hosts[0]?.link.state}, ${r.json.hosts[0]?.link.unacked} unacked`)
        .catch(() => 'vms-agent down')
        .then((link) => say(`  ${((Date.now() - tDrive) / 1000).toFixed(0)} s: ${driver.accepted.size} accepted, ${driver.finished} final; ${link}; udp dropped ${udp!.stats.dropped}, tcp cuts ${tcp!.stats.cuts}, kills ${kills.done.length}`));
    }, 15_000);
    const worker = async () => {
      while (driver.accepted.size < profile.commands && !driver.aborted) {
        const cmd = script.next();
        const deadline = Date.now() + profile.commandDeadlineMs;
        const id = await driver.issue(cmd, deadline);
        if (id) await driver.waitFinal(id, cmd, deadline);
      }
    };
    let killFailure: Error | undefined;
    const killing = kills.run(() => driver.issued, t0).catch((err: unknown) => {
      killFailure = err as Error;
      driver.aborted = true;
    });
    try {
      await Promise.all(Array.from({ length: profile.concurrency }, worker));
    } finally {
      kills.stop();
      await killing;
      clearInterval(progress);
    }
    if (killFailure) throw new Error(`restart after kill -9 failed: ${killFailure.message}`, { cause: killFailure });
    const driveMs = Date.now() - tDrive;

    // Drain: commands whose POST answer was lost are in the store too; they must end as well.
    const vmsDb = join(stack.dir, 'vms.db');
    const drainUntil = Date.now() + profile.drainMs;
    while (Date.now() < drainUntil && readVmsCommands(vmsDb).some((c) => !FINAL_STATES.has(c.state))) await sleep(500);

    // libvirt's state at the end, through the same faulty path, and the status report after it.
    const finalListed: Record<string, string> = {};
    const finalReported: Record<string, string> = {};
    const listCmd = { principal: 'alice' as const, domain: 'vm-a', action: 'list_domains' as const };
    const listDeadline = Date.now() + 60_000;
    const listId = await driver.issue({ index: -1, ...listCmd }, listDeadline);
    const listed: CommandJson | undefined = listId ? await driver.waitFinal(listId, listCmd, listDeadline) : undefined;
    for (const d of (listed?.result as { domains?: { name: string; state: string }[] } | null)?.domains ?? []) finalListed[d.name] = d.state;
    const listedAt = Date.now();
    for (let i = 0; i < 100; i++) {
      const r = await driver.get<{ receivedAtMs?: number; reportTimeMs: number; domains?: { name: string; state: string }[] }>(`/v1/hosts/${HOST}/domains`, Date.now() + 30_000);
      if (r.status === 200 && r.json.reportTimeMs >= listedAt) {
        for (const d of r.json.domains ?? []) finalReported[d.name] = d.state;
        break;
      }
      await sleep(250);
    }

    const verdict = checkRun({
      hostId: HOST,
      accepted: driver.accepted,
      uncertainPosts: driver.uncertainPosts,
      apiViolations: driver.violations,
      commands: readVmsCommands(vmsDb),
      journal: readAgentJournal(join(stack.dir, 'agent', 'state', 'agent.db')),
      applyLines: applyLog.lines,
      agentIncarnations: applyLog.incarnations,
      alerts: readVmsAlerts(vmsDb),
      fixture: FIXTURE_DOMAINS,
      finalListed,
      finalReported,
    });
    const killCount = { 'bmc-oem': 0, 'hypervisor-agent': 0, 'vms-agent': 0 } as Record<Victim, number>;
    for (const k of kills.done) killCount[k.victim]++;
    summary = {
      profile,
      durationMs: Date.now() - t0,
      driveMs,
      commands: Object.values(verdict.outcomes).reduce((a, b) => a + b, 0),
      accepted: driver.accepted.size,
      uncertainPosts: driver.uncertainPosts,
      outcomes: verdict.outcomes,
      applications: applyLog.lines.length,
      interrupted: verdict.interrupted,
      udp: { ...udp!.stats },
      tcp: { connections: tcp!.stats.connections, cuts: tcp!.stats.cuts },
      kills: killCount,
      killLog: kills.done,
      agentIncarnations: applyLog.incarnations,
      verdict,
      keptAt: null,
    };
    if (verdict.violations.length > 0) summary.keptAt = keep(stack, summary);
    return summary;
  } catch (err) {
    const kept = keep(stack, summary);
    throw new Error(`fault run (seed ${profile.seed}) aborted: ${(err as Error).message}\nlogs and databases kept in ${kept}`, { cause: err });
  } finally {
    await stack.stop();
    await udp?.close();
    await tcp?.close();
  }
}

/** Copies the run's directory (databases, configs) and every process's output somewhere that outlives the stack. */
function keep(stack: VmsAgentStack, summary: FaultRunSummary | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'backchannel-faults-'));
  try {
    cpSync(stack.dir, join(dir, 'stack'), { recursive: true });
    writeFileSync(join(dir, 'bmc-oem.log'), stack.bmc?.output ?? '');
    writeFileSync(join(dir, 'hypervisor-agent.log'), stack.agent?.output ?? '');
    writeFileSync(join(dir, 'vms-agent.log'), stack.vms?.output ?? '');
    if (summary) writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  } catch {
    // best effort: the failure message matters more than the copy
  }
  return dir;
}

export function formatSummary(s: FaultRunSummary): string {
  const pct = (n: number, d: number) => (d ? ((100 * n) / d).toFixed(1) : '0.0');
  const crossings = s.udp.forwarded + s.udp.dropped;
  return [
    `fault injection "${s.profile.name}" — seed ${s.profile.seed} (replay: BACKCHANNEL_FAULTS_SEED=${s.profile.seed})`,
    `  commands   ${s.commands} (${s.accepted} answered 202, ${s.uncertainPosts} POST answers lost to kills) in ${(s.driveMs / 1000).toFixed(1)} s, ${((1000 * s.commands) / s.driveMs).toFixed(2)}/s`,
    `  outcomes   ${Object.entries(s.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  libvirt    ${s.applications} applications over ${s.agentIncarnations} agent incarnations, ${s.verdict.applicationsChecked} checked against the model, ${s.interrupted} interrupted by kill -9`,
    `  udp        ${crossings} datagrams: dropped ${s.udp.dropped} (${pct(s.udp.dropped, crossings)}%), duplicated ${s.udp.duplicated}, reordered ${s.udp.reordered}, delayed ${s.udp.delayed}`,
    `  tcp        ${s.tcp.cuts} cuts over ${s.tcp.connections} connections`,
    `  kill -9    bmc-oem ${s.kills['bmc-oem']}, hypervisor-agent ${s.kills['hypervisor-agent']}, vms-agent ${s.kills['vms-agent']}`,
    `  duration   ${(s.durationMs / 1000).toFixed(1)} s`,
    s.verdict.violations.length ? `  VIOLATIONS ${s.verdict.violations.length}:\n    ${s.verdict.violations.slice(0, 40).join('\n    ')}${s.keptAt ? `\n  kept in ${s.keptAt}` : ''}` : '  violations none: every command final, none lost, none applied twice, every result matches its request',
  ].join('\n');
}
