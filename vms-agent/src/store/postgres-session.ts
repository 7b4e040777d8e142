/**
 * How every PostgreSQL connection of a replica is set up, so that a replica
 * cut off from the database (frozen process, partition, a proxy that stops
 * forwarding) never blocks the others for more than a few seconds.
 *
 * Why each setting:
 * - `idle_in_transaction_session_timeout`: a replica that stops between two
 *   statements of a transaction leaves its session "idle in transaction",
 *   holding its row locks (the replay window, a command row). The server
 *   ends such a session after this long, which releases the locks; the
 *   server's default (0, never) held them for as long as TCP took to notice
 *   the peer was gone (about two hours with the kernel's keepalive defaults).
 * - `lock_timeout`: a statement waiting for a lock gives up after this long
 *   instead of queueing behind a stuck session indefinitely (longer than the
 *   idle timeout, so a stuck holder is normally ended first and the waiter
 *   just proceeds).
 * - `statement_timeout`: no statement of ours takes more than milliseconds;
 *   one running this long is stuck, not slow.
 * - TCP keepalives on both ends (the client's socket option, and the
 *   server's `tcp_keepalives_*` for this session): a silently dead peer is
 *   noticed in seconds rather than hours.
 * - `query_timeout` (client side): a query whose answer never comes (the
 *   server or the path froze) fails in the client rather than hanging the
 *   caller forever.
 * - pool limits: at most `maxConnections` sessions per replica, and waiting
 *   for a free one (or for a new connection) at most `connectTimeoutMs`.
 *
 * The defaults are documented in docs/vms-agent.md ("Several replicas").
 */
import type pg from 'pg';

export interface PostgresSessionSettings {
  /** Server ends a session idle inside a transaction this long (releases its locks). */
  idleInTransactionTimeoutMs: number;
  /** A statement waiting this long for a lock fails (SQLSTATE 55P03). */
  lockTimeoutMs: number;
  /** A statement running this long is cancelled (SQLSTATE 57014). */
  statementTimeoutMs: number;
  /** TCP keepalive: first probe after this much silence (client socket and server session). */
  keepAliveIdleMs: number;
  /** Pool size per replica. */
  maxConnections: number;
  /** Opening a connection, or waiting for a free pooled one, fails after this long. */
  connectTimeoutMs: number;
}

export const DEFAULT_POSTGRES_SESSION: Readonly<PostgresSessionSettings> = Object.freeze({
  idleInTransactionTimeoutMs: 4_000,
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 10_000,
  keepAliveIdleMs: 5_000,
  maxConnections: 10,
  connectTimeoutMs: 5_000,
});

/** Server-side keepalive probes: every 2 s after the idle time, 3 lost ones end the session. */
const KEEPALIVE_INTERVAL_S = 2;
const KEEPALIVE_COUNT = 3;

/** Checks settings given by an operator; returns them complete (defaults filled in). */
export function postgresSessionSettings(partial: Partial<PostgresSessionSettings> = {}): PostgresSessionSettings {
  const s = { ...DEFAULT_POSTGRES_SESSION, ...partial };
  for (const [k, v] of Object.entries(s)) {
    const min = k === 'maxConnections' ? 1 : k === 'keepAliveIdleMs' ? 1_000 : 100;
    if (!Number.isInteger(v) || v < min || v > 3_600_000) throw new RangeError(`PostgreSQL setting ${k} must be an integer in ${min}..3600000, got ${String(v)}`);
  }
  return s;
}

/** The node-postgres client configuration carrying `settings` (every pooled connection and the LISTEN connection use it). */
export function postgresClientConfig(url: string, settings: PostgresSessionSettings, extra: Partial<pg.ClientConfig> = {}): pg.ClientConfig {
  const keepIdleS = Math.max(1, Math.round(settings.keepAliveIdleMs / 1000));
  return {
    connectionString: url,
    ...extra,
    statement_timeout: settings.statementTimeoutMs,
    lock_timeout: settings.lockTimeoutMs,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
    // The client gives up a little after the server would have cancelled the statement.
    query_timeout: settings.statementTimeoutMs + 2_000,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: settings.keepAliveIdleMs,
    options: `-c tcp_keepalives_idle=${keepIdleS} -c tcp_keepalives_interval=${KEEPALIVE_INTERVAL_S} -c tcp_keepalives_count=${KEEPALIVE_COUNT}`,
  };
}
