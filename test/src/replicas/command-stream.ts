/**
 * A steady stream of VM commands through the replicas, as clients behind
 * a load balancer would send them: each POST carries a fresh
 * Idempotency-Key; a connection error, a timeout or a 5xx (the replica
 * died, is stopped, or is cut off from the database) is retried with the
 * same key at the next replica. Records every key, the command id it got
 * and how many attempts it took, so the suite can check that a retried
 * POST made one command and every command was applied exactly once.
 */
import { randomUUID } from 'node:crypto';
import type { ReplicaCluster } from './replica-cluster.js';

export interface Issued {
  key: string;
  host: string;
  action: string;
  id?: string;
  attempts: number;
  /** Attempts that failed (connection error, timeout, 5xx) before the one that answered. */
  failures: string[];
  replayed: boolean;
}

export class CommandStream {
  readonly issued: Issued[] = [];
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #inflight = new Set<Promise<void>>();
  #next = 0;

  constructor(
    private readonly cluster: ReplicaCluster,
    private readonly everyMs = 150,
  ) {}

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        const p = this.#issueOne().finally(() => this.#inflight.delete(p));
        this.#inflight.add(p);
        await new Promise((r) => setTimeout(r, this.everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all([...this.#inflight]);
  }

  async #issueOne(): Promise<void> {
    const n = this.#next++;
    const hosts = this.cluster.hosts;
    const host = hosts[n % hosts.length]!.id;
    // Alternating start/destroy of web-2 on each host: real state changes, in order per domain.
    const action = Math.floor(n / hosts.length) % 2 === 0 ? 'start' : 'destroy';
    const rec: Issued = { key: randomUUID(), host, action, attempts: 0, failures: [], replayed: false };
    this.issued.push(rec);
    const deadline = Date.now() + 60_000;
    for (let i = n; Date.now() < deadline; i++) {
      const live = this.cluster.live();
      const r = live[i % live.length]!;
      rec.attempts++;
      try {
        const res = await this.cluster.api<{ id?: string; code?: string }>(r, 'POST', `/v1/hosts/${host}/domains/web-2/actions`, { action }, { 'idempotency-key': rec.key }, 8_000);
        if (res.status === 202) {
          rec.id = res.json.id;
          rec.replayed = res.headers.get('idempotent-replayed') === 'true';
          return;
        }
        rec.failures.push(`${r.name}: HTTP ${res.status} ${res.json.code ?? ''}`);
        if (res.status < 500) return; // a client error will not get better by retrying
      } catch (err) {
        rec.failures.push(`${r.name}: ${(err as Error).name}`);
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}
