/**
 * The SQLite Store (better-sqlite3): WAL journal, synchronous=FULL so a
 * committed transaction survives a crash of the process or the machine,
 * foreign keys on, a busy timeout so the CLI and a running `serve` can
 * share one file. better-sqlite3 is synchronous; the async interface is for
 * the benefit of other implementations.
 */
import Database from 'better-sqlite3';
import { isFinal, type CommandState } from '../commands/lifecycle.js';
import { DEFAULT_ROLES, type Role, sortRoles } from '../roles.js';
import type { DeliveryStore, HasDeliveryStore } from '../alerts/delivery-store.js';
import { SqliteDeliveries } from '../alerts/sqlite-deliveries.js';
import { prepareSqliteFiles, tightenSqliteFiles } from './file-modes.js';
import { SealedSecrets } from './sealed-secrets.js';
import type { SecretBox } from './secret-box.js';
import {
  type AlertRow,
  type ApprovalRow,
  type CommandRow,
  type EventRow,
  type HostRow,
  type InboundWindowRow,
  type OutboxRow,
  type PrincipalRow,
  type StatusRow,
  type TokenRow,
  alertFromRow,
  approvalFromRow,
  commandFromRow,
  eventFromRow,
  hostFromRow,
  outboxFromRow,
  principalFromRow,
  statusFromRow,
  grantFromRow,
  tokenFromRow,
  windowFromRow,
} from './sqlite-rows.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { IdempotencyKeyTakenError, type IdempotencyRecord } from './idempotency-keys.js';
import { type IdempotencyRow, idempotencyFromRow } from './sqlite-rows.js';
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
const ROLES_OF = "(SELECT group_concat(role, ',') FROM principal_roles r WHERE r.principal = p.name) AS roles";
const TOKEN_COLUMNS = 'id, principal, label, created_at_ms, expires_at_ms, revoked_at_ms';

export interface SqliteStoreOptions {
  path: string;
  secrets: SecretBox;
}

export class SqliteStore implements Store, HasDeliveryStore {
  readonly #db: Database.Database;
  readonly #secrets: SealedSecrets;
  /** Prepared statements by SQL text: compiling one costs more than running it, and the store runs the same few hundred times a second. */
  readonly #statements = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.#secrets = new SealedSecrets(options.secrets);
    prepareSqliteFiles(options.path);
    this.#db = new Database(options.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    // Sorts and temporary tables stay in memory rather than in files under /tmp.
    this.#db.pragma('temp_store = MEMORY');
    this.#migrate();
    tightenSqliteFiles(options.path);
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  async getIdempotencyKey(principal: string, key: string, notBeforeMs: number): Promise<IdempotencyRecord | undefined> {
    const row = this.#prepare('SELECT * FROM idempotency_keys WHERE principal = ? AND key = ? AND created_at_ms >= ?').get(principal, key, notBeforeMs) as IdempotencyRow | undefined;
    return row && idempotencyFromRow(row);
  }

  async purgeIdempotencyKeys(beforeMs: number): Promise<number> {
    return this.#prepare('DELETE FROM idempotency_keys WHERE created_at_ms < ?').run(beforeMs).changes;
  }

  /** Versions of the migrations applied, oldest first. */
  migrationsApplied(): number[] {
    return (this.#prepare('SELECT version FROM migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
  }

  #migrate(): void {
    this.#db.exec('CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)');
    const done = new Set(this.migrationsApplied());
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue;
      this.#db.transaction(() => {
        this.#db.exec(m.sql);
        this.#prepare('INSERT INTO migrations (version, name, applied_at_ms) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      })();
    }
  }

  async addHost(h: HostInput, nowMs: number): Promise<void> {
    const sealed = this.#secrets.sealHost(h);
    try {
      this.#db
        .prepare(
          `INSERT INTO hosts (id, bmc_address, bmc_port, bmc_user, bmc_password_enc, bmc_privilege, cipher_suites, iana, seed_enc,
             host_public_key, policy_info, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
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
        );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new StoreConflictError(`host ${h.id} already exists`);
      }
      throw err;
    }
  }

  async getHost(id: string): Promise<HostRecord | undefined> {
    const row = this.#prepare('SELECT * FROM hosts WHERE id = ?').get(id) as HostRow | undefined;
    return row && hostFromRow(row);
  }

  async getHostSecrets(id: string): Promise<HostSecrets | undefined> {
    const row = this.#prepare('SELECT bmc_password_enc, seed_enc FROM hosts WHERE id = ?').get(id) as
      | Pick<HostRow, 'bmc_password_enc' | 'seed_enc'>
      | undefined;
    return row && this.#secrets.openHost(id, row);
  }

  async listHosts(): Promise<HostRecord[]> {
    return (this.#prepare('SELECT * FROM hosts ORDER BY id').all() as HostRow[]).map(hostFromRow);
  }

  async removeHost(id: string, nowMs = Date.now()): Promise<boolean> {
    return this.#db.transaction(() => {
      // Its outbox goes with it, so nothing will ever answer its open commands: close them.
      const open = this.#prepare("SELECT id FROM commands WHERE host_id = ? AND state NOT IN ('applied', 'denied', 'failed', 'expired')").all(id) as { id: string }[];
      for (const c of open) {
        this.#prepare("UPDATE commands SET state = 'failed', updated_at_ms = ? WHERE id = ?").run(nowMs, c.id);
        this.#event(c.id, nowMs, 'final', 'failed', `host ${id} was removed from the inventory before the command finished`);
      }
      return this.#prepare('DELETE FROM hosts WHERE id = ?').run(id).changes > 0;
    }).immediate();
  }

  async setHostPublicKey(id: string, publicKey: string): Promise<void> {
    if (this.#prepare('UPDATE hosts SET host_public_key = ? WHERE id = ?').run(publicKey, id).changes === 0) {
      throw new StoreNotFoundError('HOST_NOT_FOUND', `no host ${id}`);
    }
  }

  async addPrincipal(p: PrincipalInput, nowMs: number): Promise<void> {
    const roles = sortRoles(p.roles ?? DEFAULT_ROLES);
    this.#db.transaction(() => {
      try {
        this.#prepare('INSERT INTO principals (name, public_key, secret_key_enc, created_at_ms) VALUES (?, ?, ?, ?)').run(
          p.name,
          p.publicKey,
          p.secretKey ? this.#secrets.sealPrincipalKey(p.name, p.secretKey) : null,
          nowMs,
        );
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreConflictError(`principal ${p.name} already exists`);
        throw err;
      }
      this.#insertRoles(p.name, roles);
    }).immediate();
  }

  #insertRoles(name: string, roles: readonly Role[]): void {
    for (const role of roles) this.#prepare('INSERT INTO principal_roles (principal, role) VALUES (?, ?)').run(name, role);
  }

  async getPrincipal(name: string): Promise<PrincipalRecord | undefined> {
    const row = this.#prepare(`SELECT p.*, ${ROLES_OF} FROM principals p WHERE p.name = ?`).get(name) as PrincipalRow | undefined;
    return row && principalFromRow(row);
  }

  async getPrincipalSecretKey(name: string): Promise<Uint8Array | undefined> {
    const row = this.#prepare('SELECT secret_key_enc FROM principals WHERE name = ?').get(name) as Pick<PrincipalRow, 'secret_key_enc'> | undefined;
    return row?.secret_key_enc ? this.#secrets.openPrincipalKey(name, row.secret_key_enc) : undefined;
  }

  async listPrincipals(): Promise<PrincipalRecord[]> {
    return (this.#prepare(`SELECT p.*, ${ROLES_OF} FROM principals p ORDER BY p.name`).all() as PrincipalRow[]).map(principalFromRow);
  }

  async setPrincipalRoles(name: string, roles: readonly Role[]): Promise<void> {
    this.#db.transaction(() => {
      if (!this.#prepare('SELECT 1 FROM principals WHERE name = ?').get(name)) throw new StoreNotFoundError('PRINCIPAL_NOT_FOUND', `no principal ${name}`);
      this.#prepare('DELETE FROM principal_roles WHERE principal = ?').run(name);
      this.#insertRoles(name, sortRoles(roles));
    }).immediate();
  }

  async removePrincipal(name: string): Promise<boolean> {
    // Roles and tokens go with it (ON DELETE CASCADE).
    return this.#prepare('DELETE FROM principals WHERE name = ?').run(name).changes > 0;
  }

  async addToken(t: TokenInput, nowMs: number): Promise<TokenRecord> {
    if (!(await this.getPrincipal(t.principal))) throw new StoreNotFoundError('PRINCIPAL_NOT_FOUND', `no principal ${t.principal}`);
    const id = tokenIdOf(t.hash);
    this.#prepare('INSERT INTO tokens (hash, id, principal, label, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)').run(t.hash, id, t.principal, t.label, nowMs, t.expiresAtMs ?? null);
    return tokenFromRow(this.#prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = ?`).get(id) as TokenRow);
  }

  async getToken(hash: string): Promise<TokenGrant | undefined> {
    const row = this.#prepare(
      `SELECT t.id, t.principal, t.label, t.created_at_ms, t.expires_at_ms, t.revoked_at_ms, ${ROLES_OF}
       FROM tokens t JOIN principals p ON p.name = t.principal WHERE t.hash = ?`,
    ).get(hash) as (TokenRow & { roles: string | null }) | undefined;
    return row && grantFromRow(row);
  }

  async listTokens(filter: { principal?: string } = {}): Promise<TokenRecord[]> {
    const where = filter.principal !== undefined ? 'WHERE principal = ?' : '';
    const args = filter.principal !== undefined ? [filter.principal] : [];
    return (this.#prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens ${where} ORDER BY created_at_ms, id`).all(...args) as TokenRow[]).map(tokenFromRow);
  }

  async revokeToken(id: string, nowMs: number): Promise<TokenRecord | undefined> {
    this.#prepare('UPDATE tokens SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL').run(nowMs, id);
    const row = this.#prepare(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = ?`).get(id) as TokenRow | undefined;
    return row && tokenFromRow(row);
  }

  async getOrCreateServiceKey(create: () => Uint8Array): Promise<Uint8Array> {
    return this.#db.transaction(() => {
      const row = this.#prepare("SELECT value FROM settings WHERE key = 'service_key'").get() as { value: Buffer } | undefined;
      if (row) return this.#secrets.openServiceKey(row.value);
      const key = create();
      this.#prepare("INSERT INTO settings (key, value) VALUES ('service_key', ?)").run(this.#secrets.sealServiceKey(key));
      return key;
    }).immediate();
  }

  async getCommand(id: string): Promise<CommandDetail | undefined> {
    const row = this.#prepare('SELECT * FROM commands WHERE id = ?').get(id) as CommandRow | undefined;
    if (!row) return undefined;
    const events = (this.#prepare('SELECT at_ms, kind, state, detail FROM command_events WHERE command_id = ? ORDER BY seq').all(id) as EventRow[]).map(eventFromRow);
    const approvals = (this.#prepare('SELECT * FROM approvals WHERE command_id = ? ORDER BY at_ms, principal').all(id) as ApprovalRow[]).map(approvalFromRow);
    return { ...commandFromRow(row), events, approvals };
  }

  async listCommands(filter: CommandFilter): Promise<CommandRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.hostId !== undefined) {
      where.push('host_id = ?');
      args.push(filter.hostId);
    }
    if (filter.principal !== undefined) {
      where.push('principal = ?');
      args.push(filter.principal);
    }
    if (filter.states && filter.states.length > 0) {
      where.push(`state IN (${filter.states.map(() => '?').join(', ')})`);
      args.push(...filter.states);
    }
    const sql = `SELECT * FROM commands ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at_ms, id LIMIT ?`;
    return (this.#prepare(sql).all(...args, filter.limit ?? 1000) as CommandRow[]).map(commandFromRow);
  }

  async listOutbox(hostId: string): Promise<OutboxEntry[]> {
    return (this.#prepare('SELECT * FROM outbox WHERE host_id = ? ORDER BY message_id').all(hostId) as OutboxRow[]).map(outboxFromRow);
  }

  async getInboundWindow(hostId: string): Promise<InboundWindowRecord | undefined> {
    const row = this.#prepare('SELECT highest, cumulative, bitmap, size, peer FROM inbound_windows WHERE host_id = ?').get(hostId) as InboundWindowRow | undefined;
    return row && windowFromRow(row);
  }

  async getStatus(hostId: string): Promise<StatusRecord | undefined> {
    const row = this.#prepare('SELECT * FROM status_reports WHERE host_id = ?').get(hostId) as StatusRow | undefined;
    return row && statusFromRow(row);
  }

  async listAlerts(f: AlertFilter): Promise<AlertRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      args.push(value);
    };
    if (f.hostId !== undefined) add('host_id = ?', f.hostId);
    if (f.kind !== undefined) add('kind = ?', f.kind);
    if (f.principal !== undefined) add('principal = ?', f.principal);
    if (f.sinceMs !== undefined) add('received_at_ms >= ?', f.sinceMs);
    if (f.acknowledged !== undefined) add('acknowledged = ?', f.acknowledged ? 1 : 0);
    const sql = `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.#prepare(sql).all(...args, f.limit ?? 100) as AlertRow[]).map(alertFromRow);
  }

  async getAlert(id: number): Promise<AlertRecord | undefined> {
    const row = this.#prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row && alertFromRow(row);
  }

  async ackAlert(id: number, ack: { by: string; comment: string }, nowMs: number): Promise<AlertRecord | undefined> {
    this.#prepare('UPDATE alerts SET acknowledged = 1, acknowledged_by = ?, acknowledged_at_ms = ?, acknowledged_comment = ? WHERE id = ? AND acknowledged = 0').run(
      ack.by,
      nowMs,
      ack.comment,
      id,
    );
    return this.getAlert(id);
  }

  async apply(mutations: Mutation[], options: ApplyOptions = {}): Promise<ApplyResult> {
    const result: ApplyResult = { messageIds: [], alertsInserted: 0 };
    const run = this.#db.transaction(() => {
      for (const m of mutations) this.#applyOne(m, result);
    });
    if (options.durable ?? true) {
      run.immediate();
      return result;
    }
    // WAL + NORMAL: the commit is written, not synced; the next FULL commit syncs the WAL up to and including it.
    this.#prepare('PRAGMA synchronous = NORMAL').run();
    try {
      run.immediate();
    } finally {
      this.#prepare('PRAGMA synchronous = FULL').run();
    }
    return result;
  }

  #applyOne(m: Mutation, result: ApplyResult): void {
    switch (m.kind) {
      case 'command.insert': {
        const c = m.command;
        this.#prepare(
          `INSERT INTO commands (id, host_id, domain, action, params, principal, state, request, created_at_ms, updated_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
        ).run(c.id, c.hostId, c.domain, c.action, JSON.stringify(c.params), c.principal, c.request, c.createdAtMs, c.createdAtMs);
        this.#event(c.id, c.createdAtMs, 'queued', 'queued', m.detail);
        return;
      }
      case 'command.transition': {
        const row = this.#prepare('SELECT state FROM commands WHERE id = ?').get(m.id) as { state: CommandState } | undefined;
        if (!row) throw new StoreNotFoundError('COMMAND_NOT_FOUND', `no command ${m.id}`);
        const expected = Array.isArray(m.from) ? m.from : [m.from];
        if (!expected.includes(row.state)) {
          throw new StoreConflictError(`command ${m.id} is ${row.state}, expected ${expected.join(' or ')}`);
        }
        this.#prepare(
          `UPDATE commands SET state = ?, updated_at_ms = ?, challenge = COALESCE(?, challenge), result = COALESCE(?, result),
             response_sent = CASE WHEN ? IS NULL THEN response_sent ELSE ? END WHERE id = ?`,
        ).run(m.to, m.atMs, m.challenge ?? null, m.result ?? null, m.responseSent === undefined ? null : 1, m.responseSent ? 1 : 0, m.id);
        this.#event(m.id, m.atMs, m.to === row.state ? 'update' : isFinal(m.to) ? 'final' : 'transition', m.to, m.detail);
        return;
      }
      case 'command.event': {
        const row = this.#prepare('SELECT state FROM commands WHERE id = ?').get(m.id) as { state: string } | undefined;
        if (!row) throw new StoreNotFoundError('COMMAND_NOT_FOUND', `no command ${m.id}`);
        this.#event(m.id, m.atMs, m.event, row.state, m.detail);
        return;
      }
      case 'approval.insert': {
        const a = m.approval;
        try {
          this.#prepare('INSERT INTO approvals (command_id, principal, key_id, signature, custodial, at_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
            m.commandId,
            a.principal,
            a.keyId,
            a.signature,
            a.custodial ? 1 : 0,
            a.atMs,
          );
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new StoreConflictError(`${a.principal} has already approved ${m.commandId}`);
          throw err;
        }
        return;
      }
      case 'idempotency.insert': {
        const r = m.record;
        // An expired use of the same key no longer counts: it makes room for this one.
        this.#prepare('DELETE FROM idempotency_keys WHERE principal = ? AND key = ? AND created_at_ms < ?').run(r.principal, r.key, m.expiredBeforeMs);
        try {
          this.#prepare('INSERT INTO idempotency_keys (principal, key, scope, request_hash, command_id, status, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
            r.principal,
            r.key,
            r.scope,
            r.requestHash,
            r.commandId,
            r.status,
            r.createdAtMs,
          );
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new IdempotencyKeyTakenError(r.principal, r.key);
          throw err;
        }
        return;
      }
      case 'message.allocate':
        result.messageIds.push(this.#allocate(m.hostId));
        return;
      case 'outbox.enqueue': {
        const id = this.#allocate(m.hostId);
        this.#prepare('INSERT INTO outbox (host_id, message_id, body, kind, command_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
          m.hostId,
          id,
          m.body,
          m.messageKind,
          m.commandId ?? null,
          m.atMs,
        );
        result.messageIds.push(id);
        return;
      }
      case 'outbox.sent':
        this.#prepare('UPDATE outbox SET last_sent_at_ms = ?, send_count = send_count + 1 WHERE host_id = ? AND message_id = ?').run(m.atMs, m.hostId, m.messageId);
        return;
      case 'outbox.ack': {
        const del = this.#prepare('DELETE FROM outbox WHERE host_id = ? AND message_id = ?');
        for (const id of m.messageIds) del.run(m.hostId, id);
        return;
      }
      case 'inbound.window':
        this.#prepare(
          `INSERT INTO inbound_windows (host_id, highest, cumulative, bitmap, size, updated_at_ms, peer) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(host_id) DO UPDATE SET highest = excluded.highest, cumulative = excluded.cumulative, bitmap = excluded.bitmap,
             size = excluded.size, updated_at_ms = excluded.updated_at_ms, peer = coalesce(excluded.peer, inbound_windows.peer)`,
        ).run(m.hostId, m.window.highest, m.window.cumulative, m.window.bitmap, m.window.size, m.atMs, m.window.peer ? JSON.stringify(m.window.peer) : null);
        return;
      case 'alert.insert': {
        const a = m.alert;
        const info =this
          .#prepare(
            `INSERT OR IGNORE INTO alerts (alert_id, host_id, kind, principal, action, domain, reason, time_ms, request_id, signature_status, received_at_ms, raw)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(a.alertId, a.hostId, a.kind, a.principal, a.action, a.domain, a.reason, a.timeMs, a.requestId, a.signatureStatus, a.receivedAtMs, a.raw);
        result.alertsInserted += info.changes;
        return;
      }
      case 'status.upsert': {
        const s = m.status;
        // An older report arriving late (retransmission) never replaces a newer one.
        this.#prepare(
          `INSERT INTO status_reports (host_id, report, report_seq, time_ms, received_at_ms) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(host_id) DO UPDATE SET report = excluded.report, report_seq = excluded.report_seq, time_ms = excluded.time_ms,
             received_at_ms = excluded.received_at_ms WHERE excluded.time_ms >= status_reports.time_ms`,
        ).run(s.hostId, s.report, s.reportSeq, s.timeMs, s.receivedAtMs);
        return;
      }
      case 'host.epochs':
        if (m.q1Epoch !== undefined) this.#prepare('UPDATE hosts SET q1_epoch = ? WHERE id = ?').run(m.q1Epoch, m.hostId);
        if (m.q2Epoch !== undefined) this.#prepare('UPDATE hosts SET q2_epoch = ? WHERE id = ?').run(m.q2Epoch, m.hostId);
        return;
    }
  }

  #allocate(hostId: string): number {
    const host = this.#prepare('SELECT next_message_id FROM hosts WHERE id = ?').get(hostId) as { next_message_id: number } | undefined;
    if (!host) throw new StoreNotFoundError('HOST_NOT_FOUND', `no host ${hostId}`);
    this.#prepare('UPDATE hosts SET next_message_id = ? WHERE id = ?').run(host.next_message_id + 1, hostId);
    return host.next_message_id;
  }

  #event(commandId: string, atMs: number, kind: string, state: string, detail: string): void {
    this.#prepare('INSERT INTO command_events (command_id, at_ms, kind, state, detail) VALUES (?, ?, ?, ?, ?)').run(commandId, atMs, kind, state, detail);
  }

  /** The alert outbox and per-sink deliveries (alerts/, migration 3). */
  deliveries(): DeliveryStore {
    return new SqliteDeliveries(this.#db);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
