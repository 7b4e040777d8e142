/**
 * Link health shared between replicas, so any replica answers GET
 * /v1/hosts (and /healthz) with the state of the link as the replica
 * driving it sees it, not "no link running in this process".
 *
 * The owner publishes a host's health when it changes and at least every
 * `refreshMs` (HealthPublisher decides); serve.ts sends it as a PostgreSQL
 * NOTIFY on LINK_HEALTH_CHANNEL and every replica keeps the latest notice
 * per host (SharedLinkHealth). A notice older than `maxAgeMs` is dropped:
 * a replica that died stops publishing, and its last word must not pass
 * for the truth for long. Pure: clocks are parameters.
 */
import type { LinkHealth } from '../api/views.js';

export const LINK_HEALTH_CHANNEL = 'vms_agent_link_health';
/** NOTIFY payloads are limited to 8000 bytes; a health notice is a few hundred. */
const MAX_NOTICE_BYTES = 7_900;

export interface HealthNotice {
  host: string;
  /** The replica that drives the link (its lease owner name). */
  owner: string;
  health: LinkHealth;
}

export function encodeHealthNotice(n: HealthNotice): string | undefined {
  const text = JSON.stringify(n);
  return Buffer.byteLength(text) <= MAX_NOTICE_BYTES ? text : undefined;
}

const STATES = new Set(['connecting', 'up', 'backoff', 'stopped', 'auth_failed', 'clock_skew']);

/** The notice in `payload`, or undefined for anything that is not one (never throws: it comes off the network). */
export function decodeHealthNotice(payload: string): HealthNotice | undefined {
  try {
    const n = JSON.parse(payload) as Partial<HealthNotice>;
    const h = n.health as Partial<LinkHealth> | undefined;
    if (typeof n.host !== 'string' || typeof n.owner !== 'string' || !h || typeof h.state !== 'string' || !STATES.has(h.state) || typeof h.since !== 'number') return undefined;
    return n as HealthNotice;
  } catch {
    return undefined;
  }
}

/** What this replica heard from the others. */
export class SharedLinkHealth {
  readonly #latest = new Map<string, { notice: HealthNotice; atMs: number }>();

  constructor(
    private readonly clock: () => number,
    private readonly maxAgeMs = 10_000,
  ) {}

  accept(payload: string): void {
    const n = decodeHealthNotice(payload);
    if (n) this.#latest.set(n.host, { notice: n, atMs: this.clock() });
  }

  get(host: string): LinkHealth | undefined {
    const e = this.#latest.get(host);
    if (!e) return undefined;
    if (this.clock() - e.atMs > this.maxAgeMs) {
      this.#latest.delete(host);
      return undefined;
    }
    return e.notice.health;
  }

  owner(host: string): string | undefined {
    return this.get(host) ? this.#latest.get(host)?.notice.owner : undefined;
  }
}

/** Decides, for the owner, when a host's health is worth publishing: on a change, else every `refreshMs`. */
export class HealthPublisher {
  readonly #last = new Map<string, { text: string; atMs: number }>();

  constructor(
    private readonly clock: () => number,
    private readonly refreshMs = 3_000,
  ) {}

  /** True if `health` should go out now (and records that it did). */
  due(host: string, health: LinkHealth): boolean {
    const text = JSON.stringify(health);
    const now = this.clock();
    const last = this.#last.get(host);
    if (last && last.text === text && now - last.atMs < this.refreshMs) return false;
    this.#last.set(host, { text, atMs: now });
    return true;
  }

  forget(host: string): void {
    this.#last.delete(host);
  }
}
