/**
 * What a run of the link simulation (link-sim.ts) is given, and what it
 * reports: the knobs of the world (loss, skew, crashes, restores, attacks) with
 * the defaults CI runs, and the figures and invariant violations of one seed.
 */
import { QueueHop } from '@backchannel/proto';
import type { LinkCoreFactory } from './link-core.js';
import type { PartyTuning } from './link-party.js';
import type { NetProfile } from './sim-world.js';

export interface LinkSimOptions {
  commands: number;
  /** Mean simulated time between two commands (ms). */
  commandGapMs: number;
  maxSkewMs: number;
  maxDriftPpm: number;
  /** Between the manager and the BMC; each seed draws its loss and duplication in [0, given] (`fixedLan` uses them as given). */
  lan: NetProfile;
  fixedLan: boolean;
  /** After the last command is final (and after the attack and the last partition), run this much longer before checking. */
  settleMs: number;
  /** The system interface between host and BMC (KCS or the VM serial protocol): no duplicates, rare loss. */
  system: NetProfile;
  /** Each seed draws 0..max partitions of the LAN while commands are issued. */
  maxPartitions: number;
  maxPartitionMs: number;
  /** Each seed draws 0..max crashes of each party while commands are issued, each down up to `maxDownMs`. */
  maxCrashes: { manager: number; host: number; bmc: number };
  maxDownMs: { manager: number; host: number; bmc: number };
  /**
   * Each manager crash restarts from a backup of its store taken up to 2 min before the crash
   * (issue 18 "a manager store restored from an older copy"): the commands issued after the
   * backup are forgotten by the manager (they may have been applied, at most once); the ones
   * issued after the restore must apply exactly once.
   */
  restoreManager: boolean;
  /** Whether bmc-oem keeps its queues across a restart (a state directory); 'seeded' picks per seed. */
  bmcDurable: boolean | 'seeded';
  /**
   * An attack to inject: a foreign producer's Put of junk on queue 1 (`foreign-put`), or of a copy
   * of one of the manager's recent records, byte for byte (`replay`).
   */
  attack: 'none' | 'foreign-put' | 'replay';
  tuning: PartyTuning;
  core: LinkCoreFactory;
  trace?: (line: string) => void;
}

export const DEFAULT_LINK_SIM: LinkSimOptions = {
  commands: 500,
  commandGapMs: 500,
  maxSkewMs: 10 * 60_000,
  maxDriftPpm: 100,
  lan: { loss: 0.2, dup: 0.05, minDelayMs: 1, maxDelayMs: 20, reorder: 0.1, reorderMs: 100 },
  fixedLan: false,
  settleMs: 60_000,
  system: { loss: 0.002, dup: 0, minDelayMs: 1, maxDelayMs: 3, reorder: 0, reorderMs: 0 },
  maxPartitions: 1,
  maxPartitionMs: 5 * 60_000,
  maxCrashes: { manager: 1, host: 1, bmc: 1 },
  maxDownMs: { manager: 5 * 60_000, host: 12 * 60_000, bmc: 2 * 60_000 },
  restoreManager: false,
  bmcDurable: 'seeded',
  attack: 'none',
  tuning: { requestTimeoutMs: 60, retries: 6, retransmit: { initialTimeoutMs: 5_000, maxTimeoutMs: 60_000 }, ackDelayMs: 200, tickMs: 250, maxRecord: 200 },
  core: (o) => new QueueHop(o),
};

export interface LinkSimReport {
  seed: number;
  commands: number;
  final: number;
  /** Commands a restored manager store forgot (issued after its backup). */
  forgotten: number;
  applied: number;
  simulatedMs: number;
  events: number;
  skewMs: number;
  driftPpm: { manager: number; host: number };
  bmcDurable: boolean;
  lanLoss: number;
  crashes: { manager: number; host: number; bmc: number };
  counters: Record<string, number>;
  alerts: Record<string, number>;
  violations: string[];
  /** When the crashes and the attack were scheduled (simulated ms), to read a failing run. */
  schedule: { crashes: Record<'manager' | 'host' | 'bmc', { at: number; downMs: number }[]>; partitions: [number, number][]; attackAt?: number };
}
