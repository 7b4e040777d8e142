/**
 * What one fault-injection run does, as one plain object: how many commands,
 * how hard the links are hit, how many processes are killed. The CI profile
 * is sized for `npm test` on a 2-core machine; the long one is
 * `npm run test:faults -- --long` (BACKCHANNEL_FAULTS_LONG=1). Every random
 * choice of a run derives from `seed`, so a failure is replayed with
 * BACKCHANNEL_FAULTS_SEED=<the printed seed>.
 */
import type { UdpFaults } from './udp-proxy.js';

export type Victim = 'bmc-oem' | 'hypervisor-agent' | 'vms-agent';
export const VICTIMS: readonly Victim[] = ['bmc-oem', 'hypervisor-agent', 'vms-agent'];

export interface FaultProfile {
  name: 'ci' | 'long';
  seed: number;
  /** Commands the API must have accepted (202) before the drive phase ends. */
  commands: number;
  /** Commands in flight at once (each a POST, then long-polls until final). */
  concurrency: number;
  /** Between vms-agent and bmc-oem (RMCP+ over UDP), both directions. */
  udp: UdpFaults;
  /** Between hypervisor-agent and bmc-oem (VM protocol over TCP): chance per chunk of cutting the connection. */
  cutProbability: number;
  /** kill -9 of each process, this many times each, at seeded points of the run. */
  killsPerProcess: number;
  /** How long a killed process stays down before it is started again (seeded in this range). */
  downMs: [min: number, max: number];
  /**
   * vms-agent's RMCP+ retransmission tuning (docs/vms-agent.md). Unset: the client's defaults, which
   * hold a 20%-loss link now that retransmission adapts to the measured RTT (docs/rmcp.md).
   */
  rmcpTimeoutMs?: number;
  rmcpRetries?: number;
  /** A command not final this long after it was accepted counts as hung. */
  commandDeadlineMs: number;
  /** After the drive phase (no more kills), how long unfinished commands may take to end. */
  drainMs: number;
}

const LINK_FAULTS: UdpFaults = { drop: 0.2, duplicate: 0.05, reorder: 0.05, delay: 0.05, delayMs: [5, 80] };

/**
 * CI (CI=true) runs one fixed, known-good seed, so the gate that decides whether
 * work lands is repeatable; everywhere else a fresh random seed explores new
 * fault schedules (and prints itself for replay).
 */
export const CI_SEED = 1213059248;

/** The profile the environment asks for: BACKCHANNEL_FAULTS_LONG=1 for the long run, BACKCHANNEL_FAULTS_SEED to replay one. */
export function profileFromEnv(env: NodeJS.ProcessEnv = process.env): FaultProfile {
  const long = env.BACKCHANNEL_FAULTS_LONG === '1';
  const seedText = env.BACKCHANNEL_FAULTS_SEED;
  const seed = seedText ? Number(seedText) : env.CI === 'true' ? CI_SEED : Math.floor(Math.random() * 0x7fffffff) + 1;
  if (!Number.isInteger(seed) || seed <= 0 || seed > 0xffffffff) throw new Error(`BACKCHANNEL_FAULTS_SEED must be a positive 32-bit integer, got "${seedText}"`);
  const commandsText = env.BACKCHANNEL_FAULTS_COMMANDS;
  const base: FaultProfile = {
    name: long ? 'long' : 'ci',
    seed,
    commands: long ? 5000 : 500,
    concurrency: 12,
    udp: LINK_FAULTS,
    cutProbability: 0.01,
    killsPerProcess: long ? 20 : 3,
    downMs: [0, 1500],
    commandDeadlineMs: 150_000,
    drainMs: 90_000,
  };
  if (commandsText) {
    const n = Number(commandsText);
    if (!Number.isInteger(n) || n < 1) throw new Error(`BACKCHANNEL_FAULTS_COMMANDS must be a positive integer, got "${commandsText}"`);
    base.commands = n;
  }
  return base;
}
