/** DeliveryStore on the SQLite store's database (migration 3). better-sqlite3 is synchronous; the interface is async for PostgreSQL. */
import type Database from 'better-sqlite3';
import { type AlertRow, alertFromRow } from '../store/sqlite-rows.js';
import type { DeliveryEntry, DeliveryFilter, DeliveryOutcome, DeliveryStore, DueDelivery, SinkCounts } from './delivery-store.js';

export interface DeliveryRow {
  sink: string;
  seq: number;
  alert_id: number;
  state: DeliveryEntry['state'];
  attempts: number;
  next_attempt_at_ms: number;
  last_error: string | null;
  updated_at_ms: number;
  delivered_at_ms: number | null;
  queued_at_ms: number;
  kind: string;
  host_id: string;
}

export const ENTRY_SELECT = `SELECT d.sink, d.seq, o.alert_id, d.state, d.attempts, d.next_attempt_at_ms, d.last_error, d.updated_at_ms, d.delivered_at_ms,
  o.created_at_ms AS queued_at_ms, a.kind, a.host_id
  FROM alert_deliveries d JOIN alert_outbox o ON o.seq = d.seq JOIN alerts a ON a.id = o.alert_id`;

export function entryFromRow(r: DeliveryRow): DeliveryEntry {
  return {
    sink: r.sink,
    seq: Number(r.seq),
    alertId: Number(r.alert_id),
    state: r.state,
    attempts: r.attempts,
    nextAttemptAtMs: Number(r.next_attempt_at_ms),
    lastError: r.last_error,
    updatedAtMs: Number(r.updated_at_ms),
    deliveredAtMs: r.delivered_at_ms === null ? null : Number(r.delivered_at_ms),
    queuedAtMs: Number(r.queued_at_ms),
    kind: r.kind,
    hostId: r.host_id,
  };
}

export class SqliteDeliveries implements DeliveryStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async sync(sinks: readonly string[], nowMs: number): Promise<void> {
    this.#db.transaction(() => {
      const end = (this.#db.prepare('SELECT COALESCE(MAX(seq), 0) AS m FROM alert_outbox').get() as { m: number }).m;
      for (const sink of sinks) {
        this.#db.prepare('INSERT OR IGNORE INTO alert_sinks (name, cursor, created_at_ms) VALUES (?, ?, ?)').run(sink, end, nowMs);
        const { cursor } = this.#db.prepare('SELECT cursor FROM alert_sinks WHERE name = ?').get(sink) as { cursor: number };
        if (cursor >= end) continue;
        this.#db
          .prepare(`INSERT OR IGNORE INTO alert_deliveries (sink, seq, state, updated_at_ms) SELECT ?, seq, 'pending', ? FROM alert_outbox WHERE seq > ? AND seq <= ?`)
          .run(sink, nowMs, cursor, end);
        this.#db.prepare('UPDATE alert_sinks SET cursor = ? WHERE name = ?').run(end, sink);
      }
    }).immediate();
  }

  async claimDue(sink: string, nowMs: number, claimUntilMs: number, limit: number): Promise<DueDelivery[]> {
    return this.#db.transaction(() => {
      const rows = this.#db
        .prepare(
          `SELECT d.seq AS d_seq, d.attempts AS d_attempts, a.* FROM alert_deliveries d JOIN alert_outbox o ON o.seq = d.seq JOIN alerts a ON a.id = o.alert_id
           WHERE d.sink = ? AND d.state = 'pending' AND d.next_attempt_at_ms <= ? AND d.claimed_until_ms <= ? ORDER BY d.seq LIMIT ?`,
        )
        .all(sink, nowMs, nowMs, limit) as (AlertRow & { d_seq: number; d_attempts: number })[];
      const claim = this.#db.prepare('UPDATE alert_deliveries SET claimed_until_ms = ? WHERE sink = ? AND seq = ?');
      for (const r of rows) claim.run(claimUntilMs, sink, r.d_seq);
      return rows.map((r) => ({ sink, seq: r.d_seq, attempts: r.d_attempts, alert: alertFromRow(r) }));
    }).immediate();
  }

  async record(sink: string, outcomes: readonly DeliveryOutcome[], nowMs: number): Promise<void> {
    this.#db.transaction(() => {
      for (const o of outcomes) {
        if (o.ok) {
          this.#db
            .prepare("UPDATE alert_deliveries SET state = 'delivered', attempts = ?, claimed_until_ms = 0, updated_at_ms = ?, delivered_at_ms = ? WHERE sink = ? AND seq = ?")
            .run(o.attempts, nowMs, nowMs, sink, o.seq);
        } else {
          this.#db
            .prepare('UPDATE alert_deliveries SET state = ?, attempts = ?, next_attempt_at_ms = ?, claimed_until_ms = 0, last_error = ?, updated_at_ms = ? WHERE sink = ? AND seq = ?')
            .run(o.dead ? 'dead' : 'pending', o.attempts, o.nextAttemptAtMs, o.error.slice(0, 1000), nowMs, sink, o.seq);
        }
      }
    }).immediate();
  }

  async releaseClaims(): Promise<void> {
    this.#db.prepare('UPDATE alert_deliveries SET claimed_until_ms = 0 WHERE claimed_until_ms > 0').run();
  }

  async nextDueAtMs(sink: string): Promise<number | undefined> {
    const r = this.#db.prepare("SELECT MIN(MAX(next_attempt_at_ms, claimed_until_ms)) AS t FROM alert_deliveries WHERE sink = ? AND state = 'pending'").get(sink) as { t: number | null };
    return r.t ?? undefined;
  }

  async counts(sinks: readonly string[]): Promise<SinkCounts[]> {
    return sinks.map((sink) => {
      const c: SinkCounts = { sink, pending: 0, delivered: 0, dead: 0, oldestPendingAtMs: null, lastDeliveredAtMs: null, lastError: null, lastErrorAtMs: null };
      for (const r of this.#db.prepare('SELECT state, COUNT(*) AS n FROM alert_deliveries WHERE sink = ? GROUP BY state').all(sink) as { state: DeliveryEntry['state']; n: number }[]) c[r.state] = r.n;
      const oldest = this.#db.prepare("SELECT MIN(o.created_at_ms) AS t FROM alert_deliveries d JOIN alert_outbox o ON o.seq = d.seq WHERE d.sink = ? AND d.state = 'pending'").get(sink) as { t: number | null };
      c.oldestPendingAtMs = oldest.t;
      c.lastDeliveredAtMs = (this.#db.prepare('SELECT MAX(delivered_at_ms) AS t FROM alert_deliveries WHERE sink = ?').get(sink) as { t: number | null }).t;
      const err = this.#db.prepare('SELECT last_error, updated_at_ms FROM alert_deliveries WHERE sink = ? AND last_error IS NOT NULL ORDER BY updated_at_ms DESC LIMIT 1').get(sink) as
        | { last_error: string; updated_at_ms: number }
        | undefined;
      if (err) {
        c.lastError = err.last_error;
        c.lastErrorAtMs = err.updated_at_ms;
      }
      return c;
    });
  }

  async list(f: DeliveryFilter): Promise<DeliveryEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.sink !== undefined) {
      where.push('d.sink = ?');
      args.push(f.sink);
    }
    if (f.state !== undefined) {
      where.push('d.state = ?');
      args.push(f.state);
    }
    const sql = `${ENTRY_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.seq DESC, d.sink LIMIT ?`;
    return (this.#db.prepare(sql).all(...args, f.limit ?? 100) as DeliveryRow[]).map(entryFromRow);
  }

  async redeliver(sink: string, seq: number, nowMs: number): Promise<DeliveryEntry | undefined> {
    this.#db
      .prepare("UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_attempt_at_ms = ?, claimed_until_ms = 0, updated_at_ms = ? WHERE sink = ? AND seq = ? AND state != 'delivered'")
      .run(nowMs, nowMs, sink, seq);
    const row = this.#db.prepare(`${ENTRY_SELECT} WHERE d.sink = ? AND d.seq = ?`).get(sink, seq) as DeliveryRow | undefined;
    return row && entryFromRow(row);
  }
}
