/**
 * DeliveryStore on PostgreSQL (migration 4). Several replicas may run the
 * deliverer: claims are taken with FOR UPDATE SKIP LOCKED, so two replicas
 * never send the same delivery at the same time; a replica that dies
 * leaves its claims to run out.
 */
import type pg from 'pg';
import { type AlertRow, alertFromRow } from '../store/sqlite-rows.js';
import type { DeliveryEntry, DeliveryFilter, DeliveryOutcome, DeliveryStore, DueDelivery, SinkCounts } from './delivery-store.js';
import { type DeliveryRow, ENTRY_SELECT, entryFromRow } from './sqlite-deliveries.js';

/** $1, $2, … in place of ? (the shared SQL is written for SQLite). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type PgAlertRow = Omit<AlertRow, 'acknowledged'> & { acknowledged: boolean };

export class PostgresDeliveries implements DeliveryStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async sync(sinks: readonly string[], nowMs: number): Promise<void> {
    await this.#tx(async (c) => {
      const end = Number((await c.query<{ m: string | number }>('SELECT COALESCE(MAX(seq), 0) AS m FROM alert_outbox')).rows[0]!.m);
      for (const sink of sinks) {
        await c.query('INSERT INTO alert_sinks (name, cursor, created_at_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [sink, end, nowMs]);
        // The row lock orders replicas syncing the same sink.
        const cursor = Number((await c.query<{ cursor: number }>('SELECT cursor FROM alert_sinks WHERE name = $1 FOR UPDATE', [sink])).rows[0]!.cursor);
        if (cursor >= end) continue;
        await c.query(
          `INSERT INTO alert_deliveries (sink, seq, state, updated_at_ms) SELECT $1, seq, 'pending', $2 FROM alert_outbox WHERE seq > $3 AND seq <= $4
           ON CONFLICT (sink, seq) DO NOTHING`,
          [sink, nowMs, cursor, end],
        );
        await c.query('UPDATE alert_sinks SET cursor = GREATEST(cursor, $1) WHERE name = $2', [end, sink]);
      }
    });
  }

  async claimDue(sink: string, nowMs: number, claimUntilMs: number, limit: number): Promise<DueDelivery[]> {
    return this.#tx(async (c) => {
      const seqs = (
        await c.query<{ seq: number }>(
          `SELECT seq FROM alert_deliveries WHERE sink = $1 AND state = 'pending' AND next_attempt_at_ms <= $2 AND claimed_until_ms <= $2
           ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [sink, nowMs, limit],
        )
      ).rows.map((r) => Number(r.seq));
      if (seqs.length === 0) return [];
      await c.query('UPDATE alert_deliveries SET claimed_until_ms = $1 WHERE sink = $2 AND seq = ANY($3)', [claimUntilMs, sink, seqs]);
      const rows = (
        await c.query<PgAlertRow & { d_seq: number; d_attempts: number }>(
          `SELECT d.seq AS d_seq, d.attempts AS d_attempts, a.* FROM alert_deliveries d JOIN alert_outbox o ON o.seq = d.seq JOIN alerts a ON a.id = o.alert_id
           WHERE d.sink = $1 AND d.seq = ANY($2) ORDER BY d.seq`,
          [sink, seqs],
        )
      ).rows;
      return rows.map((r) => ({ sink, seq: Number(r.d_seq), attempts: r.d_attempts, alert: alertFromRow({ ...r, acknowledged: r.acknowledged ? 1 : 0 }) }));
    });
  }

  async record(sink: string, outcomes: readonly DeliveryOutcome[], nowMs: number): Promise<void> {
    await this.#tx(async (c) => {
      for (const o of outcomes) {
        if (o.ok) {
          await c.query("UPDATE alert_deliveries SET state = 'delivered', attempts = $1, claimed_until_ms = 0, updated_at_ms = $2, delivered_at_ms = $2 WHERE sink = $3 AND seq = $4", [o.attempts, nowMs, sink, o.seq]);
        } else {
          await c.query('UPDATE alert_deliveries SET state = $1, attempts = $2, next_attempt_at_ms = $3, claimed_until_ms = 0, last_error = $4, updated_at_ms = $5 WHERE sink = $6 AND seq = $7', [
            o.dead ? 'dead' : 'pending',
            o.attempts,
            o.nextAttemptAtMs,
            o.error.slice(0, 1000),
            nowMs,
            sink,
            o.seq,
          ]);
        }
      }
    });
  }

  async releaseClaims(): Promise<void> {
    // Other replicas may hold claims: they run out by themselves.
  }

  async nextDueAtMs(sink: string): Promise<number | undefined> {
    const r = (await this.#pool.query<{ t: number | null }>("SELECT MIN(GREATEST(next_attempt_at_ms, claimed_until_ms)) AS t FROM alert_deliveries WHERE sink = $1 AND state = 'pending'", [sink])).rows[0];
    return r?.t === null || r?.t === undefined ? undefined : Number(r.t);
  }

  async counts(sinks: readonly string[]): Promise<SinkCounts[]> {
    const out: SinkCounts[] = [];
    for (const sink of sinks) {
      const c: SinkCounts = { sink, pending: 0, delivered: 0, dead: 0, oldestPendingAtMs: null, lastDeliveredAtMs: null, lastError: null, lastErrorAtMs: null };
      for (const r of (await this.#pool.query<{ state: DeliveryEntry['state']; n: string }>('SELECT state, COUNT(*) AS n FROM alert_deliveries WHERE sink = $1 GROUP BY state', [sink])).rows) c[r.state] = Number(r.n);
      const oldest = (await this.#pool.query<{ t: number | null }>("SELECT MIN(o.created_at_ms) AS t FROM alert_deliveries d JOIN alert_outbox o ON o.seq = d.seq WHERE d.sink = $1 AND d.state = 'pending'", [sink])).rows[0];
      c.oldestPendingAtMs = oldest?.t == null ? null : Number(oldest.t);
      const last = (await this.#pool.query<{ t: number | null }>('SELECT MAX(delivered_at_ms) AS t FROM alert_deliveries WHERE sink = $1', [sink])).rows[0];
      c.lastDeliveredAtMs = last?.t == null ? null : Number(last.t);
      const err = (await this.#pool.query<{ last_error: string; updated_at_ms: number }>('SELECT last_error, updated_at_ms FROM alert_deliveries WHERE sink = $1 AND last_error IS NOT NULL ORDER BY updated_at_ms DESC LIMIT 1', [sink])).rows[0];
      if (err) {
        c.lastError = err.last_error;
        c.lastErrorAtMs = Number(err.updated_at_ms);
      }
      out.push(c);
    }
    return out;
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
    const sql = numbered(`${ENTRY_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.seq DESC, d.sink LIMIT ?`);
    return (await this.#pool.query<DeliveryRow>(sql, [...args, f.limit ?? 100])).rows.map(entryFromRow);
  }

  async redeliver(sink: string, seq: number, nowMs: number): Promise<DeliveryEntry | undefined> {
    await this.#pool.query(
      "UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_attempt_at_ms = $1, claimed_until_ms = 0, updated_at_ms = $1 WHERE sink = $2 AND seq = $3 AND state != 'delivered'",
      [nowMs, sink, seq],
    );
    const row = (await this.#pool.query<DeliveryRow>(numbered(`${ENTRY_SELECT} WHERE d.sink = ? AND d.seq = ?`), [sink, seq])).rows[0];
    return row && entryFromRow(row);
  }
}
