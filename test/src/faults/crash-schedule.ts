/**
 * kill -9 and restart of the three processes at seeded points of a run. A
 * point is "once N commands were issued", so the same seed kills the same
 * process at the same place in the command script; how long the process
 * stays down is seeded too. Kills happen one at a time, each followed by a
 * restart that waits until the process is ready again.
 */
import { VICTIMS, type Victim } from './fault-profile.js';
import { seededRandom } from './seeded-random.js';

export interface PlannedKill {
  afterIssued: number;
  victim: Victim;
  downMs: number;
}

export function planKills(seed: number, commands: number, killsPerProcess: number, downMs: [number, number]): PlannedKill[] {
  const r = seededRandom(seed ^ 0xc4a54);
  const plan: PlannedKill[] = [];
  for (const victim of VICTIMS) {
    for (let i = 0; i < killsPerProcess; i++) {
      // Not in the first or last few percent: the run should start and end with every part up.
      plan.push({ afterIssued: Math.floor(commands * (0.05 + 0.85 * r())), victim, downMs: Math.round(downMs[0] + r() * (downMs[1] - downMs[0])) });
    }
  }
  return plan.sort((a, b) => a.afterIssued - b.afterIssued);
}

export interface KillTarget {
  /** kill -9 the process, wait `downMs`, start it again and wait until it is ready. */
  crashAndRestart(victim: Victim, downMs: number): Promise<void>;
}

export interface KillRecord extends PlannedKill {
  atMs: number;
  restartMs: number;
}

export class CrashSchedule {
  readonly done: KillRecord[] = [];
  readonly #plan: PlannedKill[];
  readonly #target: KillTarget;
  #stopped = false;

  constructor(plan: PlannedKill[], target: KillTarget) {
    this.#plan = plan;
    this.#target = target;
  }

  get planned(): number {
    return this.#plan.length;
  }

  /** Runs until every planned kill happened or `stop()`; `issued()` tells how far the run is. */
  async run(issued: () => number, t0: number): Promise<void> {
    for (const kill of this.#plan) {
      while (!this.#stopped && issued() < kill.afterIssued) await sleep(50);
      if (this.#stopped) return;
      const atMs = Date.now() - t0;
      const started = Date.now();
      await this.#target.crashAndRestart(kill.victim, kill.downMs);
      this.done.push({ ...kill, atMs, restartMs: Date.now() - started });
      // Let the parts find each other again before the next blow.
      await sleep(1000);
    }
  }

  stop(): void {
    this.#stopped = true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
