/**
 * Moves alerts from the store's outbox to the configured sinks, at least
 * once (docs/alert-delivery.md). One loop per sink, so a sink that is down
 * or slow delays only itself. Each turn: copy new outbox entries into the
 * sink's deliveries, claim the due ones (oldest first), send them as one
 * batch, and record each outcome: delivered, or failed with the next
 * attempt after an exponential back-off with jitter, or dead after the
 * sink's maxAttempts (then only `redeliver` sends it again).
 *
 * Nothing is marked delivered before the sink confirmed it (a 2xx, a clean
 * close of the syslog stream), and the store is the only memory: a crash
 * at any point leaves the alert pending or claimed, and it is sent again.
 * Receivers see duplicates then, with the same webhook-id / alert id.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertSink } from './alert-sink.js';
import type { DeliveryOutcome, DeliveryStore, SinkCounts } from './delivery-store.js';
import { afterFailure } from './retry-schedule.js';
import { sinkTarget } from './sink-config.js';

export interface DelivererOptions {
  store: DeliveryStore;
  sinks: readonly AlertSink[];
  clock: () => number;
  /** [0, 1) for the jitter. */
  random: () => number;
  logger?: Pick<FastifyBaseLogger, 'warn' | 'info'>;
  /** Metrics go on this registry (the service's). */
  registry?: Registry;
  /** How often a sink with nothing due looks for new alerts, ms (default 500). */
  pollMs?: number;
  /** Alerts per batch (default 20). */
  batchSize?: number;
}

export interface SinkStatus extends SinkCounts {
  type: string;
  target: string;
  maxAttempts: number;
}

export class AlertDeliverer {
  readonly #o: Required<Omit<DelivererOptions, 'logger' | 'registry'>> & Pick<DelivererOptions, 'logger'>;
  #running = false;
  readonly #loops: Promise<void>[] = [];
  readonly #wakers = new Set<() => void>();
  readonly #delivered?: Counter<'sink' | 'outcome'>;

  constructor(options: DelivererOptions) {
    this.#o = { pollMs: 500, batchSize: 20, ...options };
    const registers = options.registry ? [options.registry] : [];
    if (options.registry) {
      this.#delivered = new Counter({ name: 'vms_agent_alert_deliveries_total', help: 'Alert delivery attempts by sink and outcome (delivered, failed, dead)', labelNames: ['sink', 'outcome'], registers });
      const store = () => this.#o.store;
      const clock = () => this.#o.clock();
      const names = () => this.sinkNames;
      const gauge = (name: string, help: string, pick: (c: SinkCounts, now: number) => number) =>
        new Gauge({
          name,
          help,
          labelNames: ['sink'],
          registers,
          async collect() {
            const now = clock();
            for (const c of await store().counts(names())) this.set({ sink: c.sink }, pick(c, now));
          },
        });
      gauge('vms_agent_alert_delivery_pending', 'Alerts not yet delivered to the sink (retrying)', (c) => c.pending);
      gauge('vms_agent_alert_delivery_dead', 'Alerts the sink never took after maxAttempts (dead letters)', (c) => c.dead);
      gauge('vms_agent_alert_delivery_oldest_pending_seconds', 'Age of the oldest alert waiting for the sink (0: none)', (c, now) => (c.oldestPendingAtMs === null ? 0 : Math.max(0, now - c.oldestPendingAtMs) / 1000));
    }
  }

  /** The delivery store (for the API's listing and redelivery). */
  get store(): DeliveryStore {
    return this.#o.store;
  }

  get sinkNames(): string[] {
    return this.#o.sinks.map((s) => s.config.name);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#o.store.sync(this.sinkNames, this.#o.clock());
    await this.#o.store.releaseClaims();
    this.#running = true;
    for (const sink of this.#o.sinks) this.#loops.push(this.#loop(sink));
  }

  /** Look for new alerts now (instead of at the next poll). */
  wake(): void {
    for (const w of [...this.#wakers]) w();
  }

  /**
   * Stops the loops. A batch still being sent (a slow receiver) is not
   * waited for beyond `graceMs`: it is still pending or claimed in the store
   * and goes again after the restart.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.#running = false;
    this.wake();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(this.#loops), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.#loops.length = 0;
  }

  /** Each sink's configuration (without secrets) and delivery counts. */
  async status(): Promise<SinkStatus[]> {
    const counts = await this.#o.store.counts(this.sinkNames);
    return this.#o.sinks.map((s, i) => ({ ...counts[i]!, type: s.config.type, target: sinkTarget(s.config), maxAttempts: s.config.retry.maxAttempts }));
  }

  /** One turn for one sink: returns whether a full batch went out (more may be due). */
  async turn(sink: AlertSink): Promise<boolean> {
    const { store, clock, batchSize } = this.#o;
    const name = sink.config.name;
    await store.sync([name], clock());
    const now = clock();
    const claimMs = sink.config.timeoutMs * (batchSize + 1);
    const due = await store.claimDue(name, now, now + claimMs, batchSize);
    if (due.length === 0) return false;
    const results = await sink.deliver(due.map((d) => d.alert));
    const at = clock();
    const outcomes: DeliveryOutcome[] = due.map((d, i) => {
      const r = results[i] ?? { ok: false as const, error: 'no outcome from the sink' };
      const attempts = d.attempts + 1;
      if (r.ok) return { seq: d.seq, attempts, ok: true };
      const next = afterFailure(sink.config.retry, attempts, at, this.#o.random());
      return { seq: d.seq, attempts, ok: false, error: r.error, dead: next.dead, nextAttemptAtMs: next.dead ? 0 : next.nextAttemptAtMs };
    });
    await store.record(name, outcomes, at);
    for (const o of outcomes) this.#delivered?.inc({ sink: name, outcome: o.ok ? 'delivered' : o.dead ? 'dead' : 'failed' });
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length) {
      const first = failed[0] as Extract<DeliveryOutcome, { ok: false }>;
      this.#o.logger?.warn({ sink: name, failed: failed.length, dead: failed.filter((o) => !o.ok && o.dead).length, error: first.error }, 'alert delivery failed; will retry');
    }
    return due.length === batchSize && failed.length === 0;
  }

  async #loop(sink: AlertSink): Promise<void> {
    while (this.#running) {
      let more = false;
      try {
        more = await this.turn(sink);
      } catch (err) {
        this.#o.logger?.warn({ sink: sink.config.name, err: (err as Error).message }, 'alert delivery turn failed (store); trying again');
      }
      if (more || !this.#running) continue;
      let waitMs = this.#o.pollMs;
      try {
        const next = await this.#o.store.nextDueAtMs(sink.config.name);
        if (next !== undefined) waitMs = Math.max(0, Math.min(waitMs, next - this.#o.clock()));
      } catch {
        // The next turn reports store trouble.
      }
      await this.#sleep(waitMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }
}
