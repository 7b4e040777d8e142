import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROLES } from '../../src/roles.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-migrations.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { hostInput, rng, tempStore } from '../helpers/temp-store.js';
import { storeContract } from './store-contract.js';

storeContract(
  'SqliteStore',
  async () => {
    const t = tempStore();
    return {
      get store() {
        return t.store;
      },
      reopen: () => t.reopen(),
      openWithKey: async (key) => new SqliteStore({ path: t.path, secrets: new SecretBox(key, rng) }),
      // The database file and its WAL (committed transactions live there until a checkpoint).
      containsAtRest: async (needle) => readdirSync(t.dir).some((f) => readFileSync(join(t.dir, f)).includes(needle)),
      migrationsApplied: async () => t.store.migrationsApplied(),
      cleanup: () => t.cleanup(),
    };
  },
  { migrations: SQLITE_MIGRATIONS.map((m) => m.version) },
);

describe('SqliteStore files (issue 13: the store was created 0644)', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const modes = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, (statSync(join(dir, f)).mode & 0o777).toString(8)]));
  const open = (path: string) => {
    const s = new SqliteStore({ path, secrets: new SecretBox(rng(32), rng) });
    stores.push(s);
    return s;
  };

  it('creates the database, its WAL and SHM 0600 under a umask of 022, and a missing state directory 0700', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vms-agent-modes-'));
    dirs.push(root);
    const previous = process.umask(0o022);
    try {
      const dir = join(root, 'state', 'vms');
      const s = open(join(dir, 'vms.db'));
      await s.addHost(hostInput('hv-01'), 1); // a write: the WAL is there and holds it
      expect(modes(dir)).toEqual({ 'vms.db': '600', 'vms.db-wal': '600', 'vms.db-shm': '600' });
      expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
      expect((statSync(join(root, 'state')).mode & 0o777).toString(8)).toBe('700');
      // Files SQLite creates later (the WAL and SHM are deleted at the last close and created again at the next open) are 0600 too.
      await s.close();
      expect(Object.keys(modes(dir))).toEqual(['vms.db']);
      const again = open(join(dir, 'vms.db'));
      await again.addPrincipal({ name: 'alice', publicKey: 'ed25519:A' }, 2);
      expect(modes(dir)).toEqual({ 'vms.db': '600', 'vms.db-wal': '600', 'vms.db-shm': '600' });
    } finally {
      process.umask(previous);
    }
  });

  it('tightens the files of a store an older version created 0644', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vms-agent-modes-'));
    dirs.push(dir);
    const path = join(dir, 'vms.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE t (x)');
    // Kept open, so the WAL and SHM stay as the old version left them.
    for (const f of ['vms.db', 'vms.db-wal', 'vms.db-shm']) chmodSync(join(dir, f), 0o644);
    writeFileSync(join(dir, 'unrelated.txt'), 'x', { mode: 0o644 });
    const s = open(path);
    expect(modes(dir)).toEqual({ 'vms.db': '600', 'vms.db-wal': '600', 'vms.db-shm': '600', 'unrelated.txt': '644' });
    await s.addHost(hostInput('hv-01'), 1);
    old.close();
  });
});

describe('SqliteStore migration 2 (roles, token ids) on a store from before roles', () => {
  it('gives existing principals the default roles and keeps their tokens working', async () => {
    const t = tempStore();
    try {
      await t.store.close();
      rmSync(t.path);
      // A version-1 store as the previous release wrote it.
      const db = new Database(t.path);
      db.exec('CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)');
      db.exec(SQLITE_MIGRATIONS[0]!.sql);
      db.prepare('INSERT INTO migrations VALUES (1, ?, 1)').run(SQLITE_MIGRATIONS[0]!.name);
      db.prepare("INSERT INTO principals (name, public_key, created_at_ms) VALUES ('alice', 'ed25519:A', 1), ('bob', 'ed25519:B', 2)").run();
      db.prepare("INSERT INTO tokens (hash, principal, label, created_at_ms) VALUES (?, 'alice', 'old', 3)").run('d4'.repeat(32));
      db.prepare(
        "INSERT INTO alerts (alert_id, host_id, kind, principal, action, domain, reason, time_ms, request_id, signature_status, received_at_ms, raw, acknowledged, acknowledged_by, acknowledged_at_ms) VALUES ('a1', 'hv-01', 'replay', '', '', '', '', 1, '', 'verified', 1, x'00', 1, 'bob', 5)",
      ).run();
      db.close();
      const s = await t.reopen();
      expect(s.migrationsApplied()).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
      expect((await s.listPrincipals()).map((p) => [p.name, p.roles])).toEqual([
        ['alice', [...DEFAULT_ROLES]],
        ['bob', [...DEFAULT_ROLES]],
      ]);
      expect(await s.getToken('d4'.repeat(32))).toEqual({ id: 'd4'.repeat(8), principal: 'alice', label: 'old', createdAtMs: 3, roles: [...DEFAULT_ROLES] });
      // An acknowledgement from before comments existed reads back without one.
      expect((await s.listAlerts({}))[0]).toMatchObject({ acknowledged: true, acknowledgedBy: 'bob', acknowledgedAtMs: 5 });
      expect((await s.listAlerts({}))[0]).not.toHaveProperty('acknowledgedComment');
    } finally {
      await t.cleanup();
    }
  });
});
