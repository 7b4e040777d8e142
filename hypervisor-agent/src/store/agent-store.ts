/**
 * The agent's durable state (SQLite, WAL, synchronous=FULL so a committed
 * transaction survives power loss): channel cursors and replay window, the
 * outbound message counter and unacknowledged bodies, the request journal
 * (exactly-once), challenge nonces, and digests of recently seen envelopes
 * (to tell a replayed copy from a re-sealed retransmission).
 *
 * Group commit: writes go into one open transaction (a unit of work) that
 * `flush()` commits, with one fsync, right before anything leaves the agent
 * that depends on them: a Put Record to the BMC, a Get Record that commits
 * the read cursor, a libvirt call. A crash before the flush loses only work
 * nobody has seen (the records are read again, nothing was sent or applied),
 * so every effect is still durable before it can matter, at one fsync per
 * step instead of one per write. `transaction(fn)` nests inside the unit of
 * work as a savepoint, so its writes still stand or fall together.
 *
 * Outbound bodies are stored as Body protobuf bytes, not sealed envelopes: an
 * envelope goes stale once its time step leaves the receiver's skew.
 */
import Database from 'better-sqlite3';
import type { PeerState, ReplayWindowState } from '@backchannel/proto';
import { ownerOnlySqlite } from './owner-only.js';

/**
 * `resolving`: accepted, its domain being looked up in libvirt before the policy
 * decides (nothing applied; looked up again after a restart). `challenged`:
 * waiting for signatures. `applying`: handed to libvirt (reported, never
 * retried, after a crash). `done`: the result is journaled.
 */
export type RequestState = 'resolving' | 'challenged' | 'applying' | 'done';

export interface RequestRow {
  requestId: string;
  request: Uint8Array; // CommandRequest protobuf
  digest: Uint8Array;
  state: RequestState;
  challenge: Uint8Array | null; // Challenge protobuf
  approvals: string[];
  result: Uint8Array | null; // CommandResult protobuf
  createdMs: number;
  updatedMs: number;
  /** The domain as libvirt resolved it (what the policy decided on and what is acted on); null before, or for host-wide actions. */
  target?: { name: string; uuid: string } | null;
}

export interface NonceRow {
  nonceHex: string;
  requestId: string;
  expiresMs: number;
  used: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (message_id INTEGER PRIMARY KEY, body BLOB NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
  request_id TEXT PRIMARY KEY, request BLOB NOT NULL, digest BLOB NOT NULL, state TEXT NOT NULL,
  challenge BLOB, approvals TEXT NOT NULL DEFAULT '[]', result BLOB, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce_hex TEXT PRIMARY KEY, request_id TEXT NOT NULL, expires_ms INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS seen_envelopes (digest_hex TEXT PRIMARY KEY, message_id INTEGER NOT NULL, seen_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_envelopes_by_time ON seen_envelopes (seen_ms);
`;

/** Columns added after the first release; added to an older database on open. */
const ADDED_COLUMNS: [table: string, column: string, type: string][] = [
  ['requests', 'target_name', 'TEXT'],
  ['requests', 'target_uuid', 'TEXT'],
];

interface RawRequest {
  request_id: string;
  request: Buffer;
  digest: Buffer;
  state: RequestState;
  challenge: Buffer | null;
  approvals: string;
  result: Buffer | null;
  created_ms: number;
  updated_ms: number;
  target_name: string | null;
  target_uuid: string | null;
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export class AgentStore {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  #flushes = 0;

  /** `path` ':memory:' gives a private in-memory database (tests). */
  constructor(path: string) {
    // Owner-only before SQLite creates anything: its side files take the database's mode.
    ownerOnlySqlite(path);
    this.#db = new Database(path);
    if (path !== ':memory:') this.#db.pragma('journal_mode = WAL');
    ownerOnlySqlite(path);
    this.#db.pragma('synchronous = FULL');
    this.#db.exec(SCHEMA);
    for (const [table, column, type] of ADDED_COLUMNS) {
      const columns = this.#db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!columns.some((c) => c.name === column)) this.#db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
  }

  /** Commits the unit of work and closes the database. */
  close(): void {
    this.flush();
    this.#db.close();
  }

  /**
   * Makes every write so far durable (commits the unit of work: one fsync).
   * Call before anything that depends on those writes leaves the process.
   * Nothing to do when nothing was written since the last flush.
   */
  flush(): void {
    if (!this.#db.inTransaction) return;
    this.#db.exec('COMMIT');
    this.#flushes += 1;
  }

  /** How many times `flush` committed (the agent's fsyncs of its state; metrics and tests). */
  get flushes(): number {
    return this.#flushes;
  }

  /** Runs `fn` as one atomic step (a savepoint in the unit of work): either all of its writes stand or none. */
  transaction<T>(fn: () => T): T {
    this.#begin();
    return this.#db.transaction(fn)();
  }

  /** Opens the unit of work on the first write after a flush. */
  #begin(): void {
    if (!this.#db.inTransaction) this.#db.exec('BEGIN');
  }

  /** A prepared statement, compiled once per connection. */
  #sql(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** A prepared write: joins the unit of work. */
  #write(sql: string): Database.Statement {
    this.#begin();
    return this.#sql(sql);
  }

  getNumber(key: string, fallback = 0): number {
    const row = this.#sql('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? Number(row.value) : fallback;
  }

  setNumber(key: string, value: number): void {
    this.#write('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, String(value));
  }

  getWindow(): ReplayWindowState | undefined {
    const row = this.#sql("SELECT value FROM kv WHERE key = 'inbound_window'").get() as { value: string } | undefined;
    if (!row) return undefined;
    const parsed = JSON.parse(row.value) as { highest: number; cumulative: number; bitmap: string; size: number };
    return { ...parsed, bitmap: new Uint8Array(Buffer.from(parsed.bitmap, 'base64')) };
  }

  setWindow(state: ReplayWindowState): void {
    const value = JSON.stringify({ highest: state.highest, cumulative: state.cumulative, size: state.size, bitmap: Buffer.from(state.bitmap).toString('base64') });
    this.#write("INSERT INTO kv (key, value) VALUES ('inbound_window', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(value);
  }

  /** What the channel learned of the manager: its clock offset and incarnations (proto InboundChannel.peerState). */
  getPeer(): PeerState | undefined {
    const row = this.#sql("SELECT value FROM kv WHERE key = 'peer_state'").get() as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as PeerState) : undefined;
  }

  setPeer(state: PeerState): void {
    this.#write("INSERT INTO kv (key, value) VALUES ('peer_state', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(JSON.stringify(state));
  }

  /**
   * Records of a message still being reassembled. Reading the next record commits
   * (releases on the BMC) the ones before it, so they are kept here with the commit
   * cursor: after a crash the message can still be completed from the queue.
   */
  getPartialRecords(): Uint8Array[] {
    const row = this.#sql("SELECT value FROM kv WHERE key = 'partial_records'").get() as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as string[]).map((b) => new Uint8Array(Buffer.from(b, 'base64'))) : [];
  }

  setPartialRecords(records: readonly Uint8Array[]): void {
    if (records.length === 0) {
      this.#write("DELETE FROM kv WHERE key = 'partial_records'").run();
      return;
    }
    const value = JSON.stringify(records.map((r) => Buffer.from(r).toString('base64')));
    this.#write("INSERT INTO kv (key, value) VALUES ('partial_records', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(value);
  }

  /** Allocates the next outbound message id (starts at 1, never reused). */
  nextMessageId(): number {
    const id = this.getNumber('next_message_id', 1);
    this.setNumber('next_message_id', id + 1);
    return id;
  }

  peekNextMessageId(): number {
    return this.getNumber('next_message_id', 1);
  }

  addOutbox(messageId: number, body: Uint8Array, nowMs: number): void {
    this.#write('INSERT INTO outbox (message_id, body, created_ms) VALUES (?, ?, ?)').run(messageId, Buffer.from(body), nowMs);
  }

  outboxBody(messageId: number): Uint8Array | undefined {
    const row = this.#sql('SELECT body FROM outbox WHERE message_id = ?').get(messageId) as { body: Buffer } | undefined;
    return row ? u8(row.body) : undefined;
  }

  outboxIds(): number[] {
    return (this.#sql('SELECT message_id FROM outbox ORDER BY message_id').all() as { message_id: number }[]).map((r) => r.message_id);
  }

  removeOutbox(ids: readonly number[]): void {
    const del = this.#write('DELETE FROM outbox WHERE message_id = ?');
    this.transaction(() => {
      for (const id of ids) del.run(id);
    });
  }

  getRequest(requestId: string): RequestRow | undefined {
    const row = this.#sql('SELECT * FROM requests WHERE request_id = ?').get(requestId) as RawRequest | undefined;
    return row ? toRequestRow(row) : undefined;
  }

  requestsInState(state: RequestState): RequestRow[] {
    return (this.#sql('SELECT * FROM requests WHERE state = ? ORDER BY created_ms').all(state) as RawRequest[]).map(toRequestRow);
  }

  putRequest(row: RequestRow): void {
    this.#write(
        `INSERT INTO requests (request_id, request, digest, state, challenge, approvals, result, created_ms, updated_ms, target_name, target_uuid)
         VALUES (@requestId, @request, @digest, @state, @challenge, @approvals, @result, @createdMs, @updatedMs, @targetName, @targetUuid)
         ON CONFLICT(request_id) DO UPDATE SET state = excluded.state, challenge = excluded.challenge,
           approvals = excluded.approvals, result = excluded.result, updated_ms = excluded.updated_ms,
           target_name = excluded.target_name, target_uuid = excluded.target_uuid`,
      )
      .run({
        requestId: row.requestId,
        request: Buffer.from(row.request),
        digest: Buffer.from(row.digest),
        state: row.state,
        challenge: row.challenge ? Buffer.from(row.challenge) : null,
        approvals: JSON.stringify(row.approvals),
        result: row.result ? Buffer.from(row.result) : null,
        createdMs: row.createdMs,
        updatedMs: row.updatedMs,
        targetName: row.target?.name ?? null,
        targetUuid: row.target?.uuid ?? null,
      });
  }

  addNonce(nonceHex: string, requestId: string, expiresMs: number): void {
    this.#write('INSERT INTO nonces (nonce_hex, request_id, expires_ms) VALUES (?, ?, ?)').run(nonceHex, requestId, expiresMs);
  }

  getNonce(nonceHex: string): NonceRow | undefined {
    const row = this.#sql('SELECT * FROM nonces WHERE nonce_hex = ?').get(nonceHex) as
      | { nonce_hex: string; request_id: string; expires_ms: number; used: number }
      | undefined;
    return row ? { nonceHex: row.nonce_hex, requestId: row.request_id, expiresMs: row.expires_ms, used: row.used !== 0 } : undefined;
  }

  useNonce(nonceHex: string): void {
    this.#write('UPDATE nonces SET used = 1 WHERE nonce_hex = ?').run(nonceHex);
  }

  /** Records an envelope digest; returns false when it was already there. */
  rememberEnvelope(digestHex: string, messageId: number, nowMs: number): boolean {
    return this.#write('INSERT OR IGNORE INTO seen_envelopes (digest_hex, message_id, seen_ms) VALUES (?, ?, ?)').run(digestHex, messageId, nowMs).changes === 1;
  }

  hasEnvelope(digestHex: string): boolean {
    return this.#sql('SELECT 1 FROM seen_envelopes WHERE digest_hex = ?').get(digestHex) !== undefined;
  }

  /** Forgets envelope digests older than `beforeMs` (they fail the time-step check anyway). */
  pruneEnvelopes(beforeMs: number): void {
    this.#write('DELETE FROM seen_envelopes WHERE seen_ms < ?').run(beforeMs);
  }
}

function toRequestRow(row: RawRequest): RequestRow {
  return {
    requestId: row.request_id,
    request: u8(row.request),
    digest: u8(row.digest),
    state: row.state,
    challenge: row.challenge ? u8(row.challenge) : null,
    approvals: JSON.parse(row.approvals) as string[],
    result: row.result ? u8(row.result) : null,
    createdMs: row.created_ms,
    updatedMs: row.updated_ms,
    target: row.target_uuid !== null && row.target_name !== null ? { name: row.target_name, uuid: row.target_uuid } : null,
  };
}
