/**
 * The PostgreSQL Store (node-postgres pool), for several vms-agent replicas
 * sharing one database. Same behaviour as SqliteStore method for method
 * (test/store/store-contract.ts runs against both); what differs is how
 * concurrency is made safe without SQLite's one-writer lock:
 *
 * - every `apply` and `removeHost` is one transaction; a command transition
 *   locks the command row (SELECT ... FOR UPDATE) before checking its
 *   expected state, and message ids come from an UPDATE ... RETURNING on
 *   the host row, so two replicas never take the same id;
 * - a transaction that lost a deadlock or serialization race is run again
 *   (a few times) from the start, which is safe because nothing of it was
 *   committed;
 * - migrations run in one transaction under an advisory lock;
 * - queuing an outbox message NOTIFYs `vms_agent_wake`, so the replica that
 *   drives that host's link sends it at once (listenForWakes);
 * - link leases (LinkLeases) say which replica drives which host's link.
 *
 * Ordering by text uses COLLATE "C" (byte order), as SQLite does, whatever
 * the database's locale.
 */
import pg from 'pg';
import type { DeliveryStore, HasDeliveryStore } from '../alerts/delivery-store.js';
import { PostgresDeliveries } from '../alerts/postgres-deliveries.js';
import { DEFAULT_ROLES, type Role, sortRoles } from '../roles.js';
import { SealedSecrets } from './sealed-secrets.js';
import type { SecretBox } from './secret-box.js';
import type { HeartbeatCounts, HeldLease, LinkLeaseRecord, LinkLeases } from './link-leases.js';
import * as leases from './postgres-leases.js';
import type { IdempotencyRecord } from './idempotency-keys.js';
import { applyMutation, COMMAND_CHANNEL, insertEvent, WAKE_CHANNEL } from './postgres-apply.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { listenForNotifications, listenForWakes, type NotificationHandlers, type WakeListenerOptions } from './postgres-wakes.js';
import { type PostgresSessionSettings, postgresClientConfig, postgresSessionSettings } from './postgres-session.js';
import {
  type AlertRow,
  type ApprovalRow,
  type CommandRow,
  type EventRow,
  type HostRow,
  type IdempotencyRow,
  idempotencyFromRow,
  type InboundWindowRow,
  type OutboxRow,
  type PrincipalRow,
  type StatusRow,
  type TokenRow,
  alertFromRow,
  approvalFromRow,
  commandFromRow,
  eventFromRow,
  grantFromRow,
  hostFromRow,
  outboxFromRow,
  principalFromRow,
  statusFromRow,
  tokenFromRow,
  windowFromRow,
} from './sqlite-rows.js';
import {
  type AlertFilter,
  type AlertRecord,
  type ApplyOptions,
  type ApplyResult,
  type CommandDetail,
  type CommandFilter,
  type CommandRecord,
  type HostInput,
  type HostRecord,
  type HostSecrets,
  type InboundWindowRecord,
  type Mutation,
  type OutboxEntry,
  type PrincipalInput,
  type PrincipalRecord,
  type StatusRecord,
  type Store,
  StoreConflictError,
  StoreNotFoundError,
  type TokenGrant,
  type TokenInput,
  type TokenRecord,
  tokenIdOf,
} from './store.js';

/** A principal's roles as one "a,b" column (rolesFromColumn parses it). */
const ROLES_OF = "(SELECT string_agg(role, ',') FROM principal_roles r WHERE r.principal = p.name) AS roles";
const TOKEN_COLUMNS = 'id, principal, label, created_at_ms, expires_at_ms, revoked_at_ms';

/** Any constant; serialises migrations of replicas that start together. */
const MIGRATION_LOCK = 0x62636b63; // "bckc"
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_ATTEMPTS = 5;

const INT8_OID = 20;
/** BIGINT columns hold ms times, ids and counters, all far below 2^53: hand them out as numbers. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} does not fit a JavaScript number`);
  return n;
}
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (libpq-style query parameters such as sslmode are understood). */
  url: string;
  secrets: SecretBox;
  /** Pool size (default 10; `session.maxConnections` says the same). */
  maxConnections?: number;
  /** Session timeouts, keepalives and pool limits (postgres-session.ts; defaults there). */
  session?: Partial<PostgresSessionSettings>;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Errors of idle pooled connections (the next query reports its own). */
  onError?: (err: Error) => void;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

export class PostgresStore implements Store, LinkLeases, HasDeliveryStore {
  readonly #pool: pg.Pool;
  /**
   * Connections of their own for the lease heartbeat: a replica busy with API requests and
   * link traffic (a full pool, a queue of waiters) must still renew its leases in time, or it
   * would lose every link exactly when it is loaded.
   */
  readonly #leasePool: pg.Pool;
  readonly #secrets: SealedSecrets;
  readonly #clientConfig: pg.ClientConfig;
  #closed = false;

  private constructor(options: PostgresStoreOptions) {
    this.#secrets = new SealedSecrets(options.secrets);
    const session = postgresSessionSettings({ ...options.session, ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}) });
    this.#clientConfig = postgresClientConfig(options.url, session, { types, application_name: options.applicationName ?? 'vms-agent' });
    this.#pool = new pg.Pool({ ...this.#clientConfig, max: session.maxConnections });
    this.#pool.on('error', (err) => options.onError?.(err));
    this.#leasePool = new pg.Pool({ ...this.#clientConfig, max: 2 });
    this.#leasePool.on('error', (err) => options.onError?.(err));
  }

  /** Connects, applies the migrations this database lacks, and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.#migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** A run-time setting as the store's pooled sessions see it (`SHOW name`), for operators and tests. */
  async sessionSetting(name: string): Promise<string> {
    if (!/^[a-z_]+$/.test(name)) throw new RangeError(`not a setting name: ${name}`);
    return (await this.#pool.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name]!;
  }

  /** Versions of the migrations applied, oldest first. */
  async migrationsApplied(): Promise<number[]> {
    return (await this.#pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
  }

  async #migrate(): Promise<void> {
    await this.#tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)');
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of POSTGRES_MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
    });
  }

  /** Runs `fn` in a transaction, again from the start if it lost a deadlock or serialization race. */
  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>, pool: pg.Pool = this.#pool): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const c = await pool.connect();
      let broken = false;
      // A checked-out client has no pool listener: the server ending the session between two of
      // our statements (idle_in_transaction_session_timeout after a SIGSTOP, a restart) arrives as
      // an 'error' event, which must not crash the process. The next query fails and says why.
      const onError = (): void => {
        broken = true;
      };
      c.on('error', onError);
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => (broken = true));
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
        throw err;
      } finally {
        c.removeListener('error', onError);
        c.release(broken);
      }
    }
  }

  async #rows<R extends pg.QueryResultRow>(sql: string, args: unknown[] = [], q: Queryable = this.#pool): Promise<R[]> {
    return (await q.query<R>(sql, args)).rows;
  }

  async addHost(h: HostInput, nowMs: number): Promise<void> {
    const sealed = this.#secrets.sealHost(h);
    try {
      await this.#pool.query(
        `INSERT INTO hosts (id, bmc_address, bmc_port, bmc_user, bmc_password_enc, bmc_privilege, cipher_suites, iana, seed_enc,
           host_public_key, policy_info, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          h.id,
          h.bmcAddress,
          h.bmcPort,
          h.bmcUser,
          sealed.bmcPasswordEnc,
          h.bmcPrivilege,
          JSON.stringify(h.cipherSuites),
          h.iana,
          sealed.seedEnc,
          h.hostPublicKey ?? null,
          h.policyInfo ?? null,
          nowMs,
        ],
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreConflictError(`host ${h.id} already exists`);
      throw err;
    }
  }

  async getHost(id: string): Promise<HostRecord | undefined> {
    const [row] = await this.#rows<HostRow>('SELECT * FROM hosts WHERE id = $1', [id]);
    return row && hostFromRow(row);
  }

  async getHostSecrets(id: string): Promise<HostSecrets | undefined> {
    const [row] = await this.#rows<Pick<HostRow, 'bmc_password_enc' | 'seed_enc'>>('SELECT bmc_password_enc, seed_enc FROM hosts WHERE id = $1', [id]);
    return row && this.#secrets.openHost(id, row);
  }

  async listHosts(): Promise<HostRecord[]> {
    return (await this.#rows<HostRow>('SELECT * FROM hosts ORDER BY id COLLATE "C"')).map(hostFromRow);
  }

  async removeHost(id: string, nowMs = Date.now()): Promise<boolean> {
    return this.#tx(async (c) => {
      // Its outbox goes with it, so nothing will ever answer its open commands: close them.
      const open = await this.#rows<{ id: string }>(
        "SELECT id FROM commands WHERE host_id = $1 AND state NOT IN ('applied', 'denied', 'failed', 'expired') ORDER BY id COLLATE \"C\" FOR UPDATE",
        [id],
        c,
      );
      for (const o of open) {
        await c.query("UPDATE commands SET state = 'failed', updated_at_ms = $1 WHERE id = $2", [nowMs, o.id]);
        await insertEvent(c, o.id, nowMs, 'final', 'failed', `host ${id} was removed from the inventory before the command finished`);
      }
      return ((await c.query('DELETE FROM hosts WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  async setHostPublicKey(id: string, publicKey: string): Promise<void> {
    if (((await this.#pool.query('UPDATE hosts SET host_public_key = $1 WHERE id = $2', [publicKey, id])).rowCount ?? 0) === 0) {
      throw new StoreNotFoundError('HOST_NOT_FOUND', `no host ${id}`);
    }
  }

  async addPrincipal(p: PrincipalInput, nowMs: number): Promise<void> {
    const roles = sortRoles(p.roles ?? DEFAULT_ROLES);
    const sealed = p.secretKey ? this.#secrets.sealPrincipalKey(p.name, p.secretKey) : null;
    await this.#tx(async (c) => {
      try {
        await c.query('INSERT INTO principals (name, public_key, secret_key_enc, created_at_ms) VALUES ($1, $2, $3, $4)', [p.name, p.publicKey, sealed, nowMs]);
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`principal ${p.name} already exists`);
        throw err;
      }
      await insertRoles(c, p.name, roles);
    });
  }

  async getPrincipal(name: string): Promise<PrincipalRecord | undefined> {
    const [row] = await this.#rows<PrincipalRow>(`SELECT p.*, ${ROLES_OF} FROM principals p WHERE p.name = $1`, [name]);
    return row && principalFromRow(row);
  }

  async getPrincipalSecretKey(name: string): Promise<Uint8Array | undefined> {
    const [row] = await this.#rows<Pick<PrincipalRow, 'secret_key_enc'>>('SELECT secret_key_enc FROM principals WHERE name = $1', [name]);
    return row?.secret_key_enc ? this.#secrets.openPrincipalKey(name, row.secret_key_enc) : undefined;
  }

  async listPrincipals(): Promise<PrincipalRecord[]> {
    return (await this.#rows<PrincipalRow>(`SELECT p.*, ${ROLES_OF} FROM principals p ORDER BY p.name COLLATE "C"`)).map(principalFromRow);
  }

  async setPrincipalRoles(name: string, roles: readonly Role[]): Promise<void> {
    await this.#tx(async (c) => {
      // Locks the principal: two replicas setting roles at once end with one set, not a mix.
      if ((await c.query('SELECT 1 FROM principals WHERE name = $1 FOR UPDATE', [name])).rowCount === 0) {
        throw new StoreNotFoundError('PRINCIPAL_NOT_FOUND', `no principal ${name}`);
      }
      await c.query('DELETE FROM principal_roles WHERE principal = $1', [name]);
      await insertRoles(c, name, sortRoles(roles));
    });
  }

  async removePrincipal(name: string): Promise<boolean> {
    // Roles and tokens go with it (ON DELETE CASCADE).
    return ((await this.#pool.query('DELETE FROM principals WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }

  async addToken(t: TokenInput, nowMs: number): Promise<TokenRecord> {
    const id = tokenIdOf(t.hash);
    try {
      const [row] = await this.#rows<TokenRow>(
        `INSERT INTO tokens (hash, id, principal, label, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${TOKEN_COLUMNS}`,
        [t.hash, id, t.principal, t.label, nowMs, t.expiresAtMs ?? null],
      );
      return tokenFromRow(row!);
    } catch (err) {
      // The foreign key says the same as SQLite's explicit check, without a window between check and insert.
      if ((err as { code?: string }).code === '23503') throw new StoreNotFoundError('PRINCIPAL_NOT_FOUND', `no principal ${t.principal}`);
      throw err;
    }
  }

  async getToken(hash: string): Promise<TokenGrant | undefined> {
    const [row] = await this.#rows<TokenRow & { roles: string | null }>(
      `SELECT t.id, t.principal, t.label, t.created_at_ms, t.expires_at_ms, t.revoked_at_ms, ${ROLES_OF}
       FROM tokens t JOIN principals p ON p.name = t.principal WHERE t.hash = $1`,
      [hash],
    );
    return row && grantFromRow(row);
  }

  async listTokens(filter: { principal?: string } = {}): Promise<TokenRecord[]> {
    const where = filter.principal !== undefined ? 'WHERE principal = $1' : '';
    const args = filter.principal !== undefined ? [filter.principal] : [];
    return (await this.#rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ${where} ORDER BY created_at_ms, id COLLATE "C"`, args)).map(tokenFromRow);
  }

  async revokeToken(id: string, nowMs: number): Promise<TokenRecord | undefined> {
    await this.#pool.query('UPDATE tokens SET revoked_at_ms = $1 WHERE id = $2 AND revoked_at_ms IS NULL', [nowMs, id]);
    const [row] = await this.#rows<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = $1`, [id]);
    return row && tokenFromRow(row);
  }

  async getOrCreateServiceKey(create: () => Uint8Array): Promise<Uint8Array> {
    const read = async () => (await this.#rows<{ value: Buffer }>("SELECT value FROM settings WHERE key = 'service_key'"))[0];
    let row = await read();
    if (!row) {
      // Two replicas creating at once: the first insert wins and both return the winner's key.
      await this.#pool.query("INSERT INTO settings (key, value) VALUES ('service_key', $1) ON CONFLICT (key) DO NOTHING", [this.#secrets.sealServiceKey(create())]);
      row = await read();
    }
    return this.#secrets.openServiceKey(row!.value);
  }

  async getCommand(id: string): Promise<CommandDetail | undefined> {
    const [row] = await this.#rows<PgCommandRow>('SELECT * FROM commands WHERE id = $1', [id]);
    if (!row) return undefined;
    const events = await this.#rows<EventRow>('SELECT at_ms, kind, state, detail FROM command_events WHERE command_id = $1 ORDER BY seq', [id]);
    const approvals = await this.#rows<PgApprovalRow>('SELECT * FROM approvals WHERE command_id = $1 ORDER BY at_ms, principal COLLATE "C"', [id]);
    return { ...commandFromPg(row), events: events.map(eventFromRow), approvals: approvals.map((a) => approvalFromRow({ ...a, custodial: a.custodial ? 1 : 0 })) };
  }

  async listCommands(filter: CommandFilter): Promise<CommandRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.hostId !== undefined) {
      args.push(filter.hostId);
      where.push(`host_id = $${args.length}`);
    }
    if (filter.principal !== undefined) {
      args.push(filter.principal);
      where.push(`principal = $${args.length}`);
    }
    if (filter.states && filter.states.length > 0) {
      args.push(filter.states);
      where.push(`state = ANY($${args.length}::text[])`);
    }
    args.push(filter.limit ?? 1000);
    const sql = `SELECT * FROM commands ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at_ms, id COLLATE "C" LIMIT $${args.length}`;
    return (await this.#rows<PgCommandRow>(sql, args)).map(commandFromPg);
  }

  async listOutbox(hostId: string): Promise<OutboxEntry[]> {
    return (await this.#rows<OutboxRow>('SELECT * FROM outbox WHERE host_id = $1 ORDER BY message_id', [hostId])).map(outboxFromRow);
  }

  async getInboundWindow(hostId: string): Promise<InboundWindowRecord | undefined> {
    const [row] = await this.#rows<InboundWindowRow>('SELECT highest, cumulative, bitmap, size, peer FROM inbound_windows WHERE host_id = $1', [hostId]);
    return row && windowFromRow(row);
  }

  async getStatus(hostId: string): Promise<StatusRecord | undefined> {
    const [row] = await this.#rows<StatusRow>('SELECT * FROM status_reports WHERE host_id = $1', [hostId]);
    return row && statusFromRow(row);
  }

  async listAlerts(f: AlertFilter): Promise<AlertRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (column: string, op: string, value: unknown) => {
      args.push(value);
      where.push(`${column} ${op} $${args.length}`);
    };
    if (f.hostId !== undefined) add('host_id', '=', f.hostId);
    if (f.kind !== undefined) add('kind', '=', f.kind);
    if (f.principal !== undefined) add('principal', '=', f.principal);
    if (f.sinceMs !== undefined) add('received_at_ms', '>=', f.sinceMs);
    if (f.acknowledged !== undefined) add('acknowledged', '=', f.acknowledged);
    args.push(f.limit ?? 100);
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${args.length}`;
    return (await this.#rows<PgAlertRow>(sql, args)).map(alertFromPg);
  }

  async getAlert(id: number): Promise<AlertRecord | undefined> {
    const [row] = await this.#rows<PgAlertRow>('SELECT * FROM alerts WHERE id = $1', [id]);
    return row && alertFromPg(row);
  }

  async ackAlert(id: number, ack: { by: string; comment: string }, nowMs: number): Promise<AlertRecord | undefined> {
    await this.#pool.query(
      'UPDATE alerts SET acknowledged = true, acknowledged_by = $1, acknowledged_at_ms = $2, acknowledged_comment = $3 WHERE id = $4 AND NOT acknowledged',
      [ack.by, nowMs, ack.comment, id],
    );
    return this.getAlert(id);
  }

  async apply(mutations: Mutation[], options: ApplyOptions = {}): Promise<ApplyResult> {
    return this.#tx(async (c) => {
      // The commit returns before its WAL record is flushed; a later durable commit flushes it too.
      if (!(options.durable ?? true)) await c.query('SET LOCAL synchronous_commit = off');
      const result: ApplyResult = { messageIds: [], alertsInserted: 0 };
      const wake = new Set<string>();
      const changed = new Set<string>();
      for (const m of mutations) {
        await applyMutation(c, m, result);
        if (m.kind === 'outbox.enqueue') wake.add(m.hostId);
        if (m.kind === 'command.transition' && m.from !== m.to) changed.add(m.id);
      }
      // Delivered at commit, to every replica listening (the one driving the host's link sends at once).
      for (const hostId of wake) await c.query('SELECT pg_notify($1, $2)', [WAKE_CHANNEL, hostId]);
      // Long-polls (?wait) on every replica re-read the command now, not at their next recheck.
      for (const id of changed) await c.query('SELECT pg_notify($1, $2)', [COMMAND_CHANNEL, id]);
      return result;
    });
  }

  async getIdempotencyKey(principal: string, key: string, notBeforeMs: number): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.#rows<IdempotencyRow>('SELECT * FROM idempotency_keys WHERE principal = $1 AND key = $2 AND created_at_ms >= $3', [principal, key, notBeforeMs]);
    return row && idempotencyFromRow(row);
  }

  async purgeIdempotencyKeys(beforeMs: number): Promise<number> {
    return (await this.#pool.query('DELETE FROM idempotency_keys WHERE created_at_ms < $1', [beforeMs])).rowCount ?? 0;
  }

  // link leases (see link-leases.ts); times are the database's

  async claimLinks(owner: string, hostIds: string[], ttlMs: number): Promise<string[]> {
    return leases.claimLinks(this.#pool, owner, hostIds, ttlMs);
  }

  async heartbeatLinks(owner: string, ttlMs: number, decide: (counts: HeartbeatCounts) => number): Promise<HeldLease[]> {
    const joined = await leases.registerReplica(this.#leasePool, owner, ttlMs);
    return this.#tx((c) => leases.heartbeat(c, owner, ttlMs, joined, decide), this.#leasePool);
  }

  async raiseGeneration(owner: string, hostId: string, bmcGeneration: number): Promise<number | undefined> {
    return leases.raiseGeneration(this.#leasePool, owner, hostId, bmcGeneration);
  }

  async releaseLinks(owner: string, hostIds: string[]): Promise<void> {
    await leases.releaseLinks(this.#leasePool, owner, hostIds);
  }

  async retireReplica(owner: string): Promise<void> {
    await leases.retireReplica(this.#leasePool, owner);
  }

  async listLinkLeases(): Promise<LinkLeaseRecord[]> {
    return leases.listLinkLeases(this.#pool);
  }

  /**
   * Calls `onWake(hostId)` whenever any replica queues a message for a
   * host, on a dedicated connection (LISTEN). If that connection fails it
   * is opened again after `retryMs`; meanwhile links still find new
   * messages on their next poll.
   */
  async listenForWakes(onWake: (hostId: string) => void, options: WakeListenerOptions = {}): Promise<{ close(): Promise<void> }> {
    return listenForWakes(this.#clientConfig, onWake, options);
  }

  /** The alert outbox and per-sink deliveries (alerts/, migration 4). */
  deliveries(): DeliveryStore {
    return new PostgresDeliveries(this.#pool);
  }

  /** Sends a notification to every listening replica (link health, for one). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.#pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  /** Listens on several notification channels on one dedicated connection (postgres-wakes.ts). */
  async listen(handlers: NotificationHandlers, options: WakeListenerOptions = {}): Promise<{ close(): Promise<void> }> {
    return listenForNotifications(this.#clientConfig, handlers, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#pool.end(), this.#leasePool.end()]);
  }
}

async function insertRoles(c: pg.PoolClient, name: string, roles: readonly Role[]): Promise<void> {
  for (const role of roles) await c.query('INSERT INTO principal_roles (principal, role) VALUES ($1, $2)', [name, role]);
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === '23505';
}

type PgCommandRow = Omit<CommandRow, 'response_sent'> & { response_sent: boolean };
type PgApprovalRow = Omit<ApprovalRow, 'custodial'> & { custodial: boolean };
type PgAlertRow = Omit<AlertRow, 'acknowledged'> & { acknowledged: boolean };

// The SQLite row mappers, with PostgreSQL's booleans in place of SQLite's 0/1.
const commandFromPg = (r: PgCommandRow) => commandFromRow({ ...r, response_sent: r.response_sent ? 1 : 0 });
const alertFromPg = (r: PgAlertRow) => alertFromRow({ ...r, acknowledged: r.acknowledged ? 1 : 0 });
