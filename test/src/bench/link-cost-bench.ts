/**
 * The cost of one host's link in CPU (issue 18's acceptance): the three
 * processes of the demo stack (VmsAgentStack: `vms-agent serve` ─RMCP+─▶
 * bmc-oem with durable queues ◀─VM protocol─ hypervisor-agent on libvirt's
 * test driver), each with its default configuration (`useDefaults`).
 *
 * CPU is utime + stime from /proc/PID/stat of each process (clock ticks,
 * 10 ms each here), read before and after a window.
 *
 * - **Idle**: no commands, after a warm-up and a settle, for `idleMs`: CPU
 *   ms per wall second per process and for the three together.
 * - **Per command**: `commands` destroy/start of web-1 one after the other,
 *   as the custodial principal alice with `POST …/actions?wait` (as in
 *   e2e-latency), then a settle long enough for the status report that
 *   follows each change and its acknowledgement; the window's CPU less the
 *   idle rate over the same wall time, divided by the commands.
 *
 * Anchor: the issue's goals (≤ 10 ms of CPU per command, ≤ 10 ms/s idle);
 * ratio above 1 means the goal is not met.
 */
import { readFileSync } from 'node:fs';
import { JsonHttpClient } from '../harness/json-http-client.js';
import { VmsAgentStack } from '../vms-agent-e2e/stack.js';
import { runCommand, useDefaults } from './e2e-latency-bench.js';
import { type Benchmark, type Metric, metric, percentile } from './metric.js';

/** USER_HZ: the unit of utime/stime in /proc/PID/stat (100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;
export const GOAL_MS_PER_COMMAND = 10;
export const GOAL_IDLE_MS_PER_S = 10;

export const PROCESSES = ['bmc-oem', 'hypervisor-agent', 'vms-agent'] as const;
export type ProcessName = (typeof PROCESSES)[number];
export type PerProcess = Record<ProcessName, number>;

export interface LinkCostOptions {
  /** Idle window, ms (no commands). */
  idleMs: number;
  /** Commands in the per-command window (destroy/start alternating). */
  commands: number;
  /** Wait after warm-up commands and after the measured commands, ms. */
  settleMs: number;
}

export interface LinkCostResult {
  idle: { wallMs: number; cpuMs: PerProcess; msPerS: PerProcess; totalMsPerS: number };
  commands: {
    count: number;
    wallMs: number;
    cpuMs: PerProcess;
    /** (window CPU − idle rate × window wall time) / commands, per process. */
    msPerCommand: PerProcess;
    totalMsPerCommand: number;
    latencyP50Ms: number;
  };
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND; // utime, stime (fields 14 and 15 of stat)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (p: PerProcess) => PROCESSES.reduce((a, n) => a + p[n], 0);
const map = (f: (n: ProcessName) => number): PerProcess => Object.fromEntries(PROCESSES.map((n) => [n, f(n)])) as PerProcess;

export async function runLinkCost(options: LinkCostOptions): Promise<LinkCostResult> {
  const stack = new VmsAgentStack();
  try {
    await stack.start();
    await useDefaults(stack);
    const pids = (): PerProcess => ({ 'bmc-oem': stack.bmc.pid, 'hypervisor-agent': stack.agent.pid, 'vms-agent': stack.vms.pid });
    const read = (): PerProcess => {
      const p = pids();
      return map((n) => cpuMs(p[n]));
    };
    const client = new JsonHttpClient(stack.url, stack.tokens.alice!);
    try {
      // Warm-up: JIT, SQLite pages, RMCP+ session; then let the reports and acks it caused go by.
      for (let i = 0; i < 6; i++) await runCommand(client, 'web-1', i % 2 === 0 ? 'destroy' : 'start');
      await sleep(options.settleMs);

      const i0 = read();
      const iStart = performance.now();
      await sleep(options.idleMs);
      const i1 = read();
      const idleWall = performance.now() - iStart;
      const idleCpu = map((n) => i1[n] - i0[n]);
      const idleRate = map((n) => idleCpu[n] / (idleWall / 1000));

      const c0 = read();
      const cStart = performance.now();
      const latencies: number[] = [];
      for (let i = 0; i < options.commands; i++) latencies.push((await runCommand(client, 'web-1', i % 2 === 0 ? 'destroy' : 'start')).ms);
      await sleep(options.settleMs); // the last status report and the acks
      const c1 = read();
      const cmdWall = performance.now() - cStart;
      const cmdCpu = map((n) => c1[n] - c0[n]);
      const perCommand = map((n) => (cmdCpu[n] - idleRate[n] * (cmdWall / 1000)) / options.commands);
      latencies.sort((a, b) => a - b);
      return {
        idle: { wallMs: idleWall, cpuMs: idleCpu, msPerS: idleRate, totalMsPerS: sum(idleRate) },
        commands: { count: options.commands, wallMs: cmdWall, cpuMs: cmdCpu, msPerCommand: perCommand, totalMsPerCommand: sum(perCommand), latencyP50Ms: percentile(latencies, 50) },
      };
    } finally {
      client.close();
    }
  } finally {
    await stack.stop();
  }
}

function toMetrics(r: LinkCostResult): Metric[] {
  const idleGoal = `goal: idle CPU of one host's link <= ${GOAL_IDLE_MS_PER_S} ms/s (all three processes)`;
  const cmdGoal = `goal: CPU per command <= ${GOAL_MS_PER_COMMAND} ms (all three processes)`;
  const idleNote = `${(r.idle.wallMs / 1000).toFixed(1)} s with no commands, default configurations, CPU from /proc/PID/stat`;
  const cmdNote = `${r.commands.count} destroy/start (custodial alice, POST ?wait) in ${(r.commands.wallMs / 1000).toFixed(1)} s, idle rate subtracted; command p50 ${r.commands.latencyP50Ms.toFixed(1)} ms`;
  return [
    metric('link CPU at idle, all three processes', r.idle.totalMsPerS, 'ms/s', idleGoal, GOAL_IDLE_MS_PER_S, idleNote),
    ...PROCESSES.map((n) => metric(`  idle CPU, ${n}`, r.idle.msPerS[n], 'ms/s', idleGoal, GOAL_IDLE_MS_PER_S)),
    metric('link CPU per command, all three processes', r.commands.totalMsPerCommand, 'ms', cmdGoal, GOAL_MS_PER_COMMAND, cmdNote),
    ...PROCESSES.map((n) => metric(`  CPU per command, ${n}`, r.commands.msPerCommand[n], 'ms', cmdGoal, GOAL_MS_PER_COMMAND)),
  ];
}

export const linkCostBench: Benchmark = {
  name: 'link-cost',
  description: "CPU of one host's link (bmc-oem + hypervisor-agent + vms-agent, default settings): ms/s at idle and ms per command",
  async run({ quick }) {
    const r = await runLinkCost(quick ? { idleMs: 4_000, commands: 10, settleMs: 1_000 } : { idleMs: 20_000, commands: 100, settleMs: 3_000 });
    return toMetrics(r);
  },
};
