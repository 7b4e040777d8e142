/**
 * Runs libvirt work beside the link (team brief, "the agent seam"): the link
 * hands a job over and returns at once; the job runs here.
 *
 * - Jobs with the same key (a domain's canonical identity, its UUID) run one at
 *   a time in the order they were handed over: a `start` queued behind a
 *   `shutdown` of the same guest waits for it.
 * - Jobs with different keys run concurrently, at most `maxConcurrent` at a
 *   time (libvirt calls each hold a thread; a host with hundreds of domains must
 *   not open hundreds at once). Lanes waiting for a free slot are served in the
 *   order their jobs arrived.
 * - A job still running `slowAfterMs` after it started gets its `onSlow` called
 *   once (the processor tells the manager "still applying").
 * - `stop(graceMs)`: takes no more jobs, lets running ones finish for up to
 *   `graceMs`, then aborts them (their AbortSignal fires) and drops the queued
 *   ones. What a dropped or aborted job had journaled stays as it is on disk
 *   (a request marked `applying` is reported ERR_INTERRUPTED after a restart).
 *
 * Timers are injected, so tests drive the runner with a fake clock.
 */

export interface RunnerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface JobOptions {
  /** Called once if the job is still running this long after it started. */
  slowAfterMs?: number;
  onSlow?: () => void;
}

export type Job = (signal: AbortSignal) => Promise<void>;

interface Queued {
  job: Job;
  options: JobOptions;
}

export interface ActionRunnerOptions {
  maxConcurrent: number;
  timers?: RunnerTimers;
  /** A job that throws (a bug: jobs journal their own failures); logged by the caller. */
  onError?: (err: unknown, key: string) => void;
}

const realTimers: RunnerTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class ActionRunner {
  readonly #maxConcurrent: number;
  readonly #timers: RunnerTimers;
  readonly #onError: (err: unknown, key: string) => void;
  /** Jobs not yet started, per key, in arrival order. */
  readonly #lanes = new Map<string, Queued[]>();
  /** Keys with a job running now. */
  readonly #busy = new Set<string>();
  /** Keys with a queued job and none running, in the order they became ready. */
  readonly #ready: string[] = [];
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();
  #idleWaiters: (() => void)[] = [];
  #stopped = false;

  constructor(options: ActionRunnerOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) throw new RangeError('maxConcurrent must be a positive integer');
    this.#maxConcurrent = options.maxConcurrent;
    this.#timers = options.timers ?? realTimers;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Jobs running now. */
  get active(): number {
    return this.#busy.size;
  }

  /** Jobs handed over and not started yet. */
  get waiting(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.length;
    return n;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Hands a job over; returns at once. Returns false (job not taken) once stopped. */
  submit(key: string, job: Job, options: JobOptions = {}): boolean {
    if (this.#stopped) return false;
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = [];
      this.#lanes.set(key, lane);
    }
    lane.push({ job, options });
    if (lane.length === 1 && !this.#busy.has(key)) this.#ready.push(key);
    this.#pump();
    return true;
  }

  /** Resolves when nothing is running or queued (tests, and draining on stop). */
  idle(): Promise<void> {
    if (this.#busy.size === 0 && this.waiting === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops taking jobs; waits up to `graceMs` for the running ones, then aborts
   * them and forgets the queued ones. Returns how many were abandoned (running
   * at the deadline plus never started).
   */
  async stop(graceMs: number): Promise<number> {
    this.#stopped = true;
    let dropped = this.waiting;
    this.#lanes.clear();
    this.#ready.length = 0;
    if (this.#busy.size === 0) return dropped;
    let timer: unknown;
    const deadline = new Promise<'late'>((resolve) => {
      timer = this.#timers.setTimeout(() => resolve('late'), graceMs);
    });
    const drained = Promise.allSettled([...this.#running]).then(() => 'done' as const);
    if ((await Promise.race([drained, deadline])) === 'late') {
      dropped += this.#busy.size;
      this.#abort.abort(new Error('the agent is stopping'));
      await drained; // aborted jobs return promptly; none may write after the store closes
    }
    this.#timers.clearTimeout(timer);
    return dropped;
  }

  #pump(): void {
    while (this.#busy.size < this.#maxConcurrent && this.#ready.length > 0) {
      const key = this.#ready.shift() as string;
      const lane = this.#lanes.get(key);
      const next = lane?.shift();
      if (!lane || !next) continue;
      if (lane.length === 0) this.#lanes.delete(key);
      this.#start(key, next);
    }
    if (this.#busy.size === 0 && this.waiting === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #start(key: string, queued: Queued): void {
    this.#busy.add(key);
    const { slowAfterMs, onSlow } = queued.options;
    const slowTimer = onSlow && slowAfterMs !== undefined ? this.#timers.setTimeout(onSlow, slowAfterMs) : undefined;
    const run = (async () => {
      try {
        await queued.job(this.#abort.signal);
      } catch (err) {
        this.#onError(err, key);
      } finally {
        if (slowTimer !== undefined) this.#timers.clearTimeout(slowTimer);
      }
    })();
    this.#running.add(run);
    void run.then(() => {
      this.#running.delete(run);
      this.#busy.delete(key);
      if (!this.#stopped && this.#lanes.get(key)?.length) this.#ready.push(key);
      this.#pump();
    });
  }
}
