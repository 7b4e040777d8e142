/**
 * PostgresStore against a real PostgreSQL server (one per file, a fresh
 * database per test): the Store contract, then what only several replicas
 * sharing one database need — concurrent writers, migrations racing,
 * link leases and wake notifications.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasPostgres, type PostgresServer, readAllFiles, startPostgres } from '../../../test/src/harness/postgres.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CliError } from '../../src/cli/cli-error.js';
import { loadConfig } from '../../src/cli/config.js';
import { openLocalStore, redactDb } from '../../src/cli/local-store.js';
import { LeaseKeeper } from '../../src/link/lease-keeper.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-migrations.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { DEFAULT_ROLES } from '../../src/roles.js';
import { formatMasterKey, SecretBox } from '../../src/store/secret-box.js';
import { StoreConflictError } from '../../src/store/store.js';
import { hostInput, rng } from '../helpers/temp-store.js';
import { commandInsert, storeContract } from './store-contract.js';

let server: PostgresServer | undefined;
beforeAll(async () => {
  if (hasPostgres()) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

async function databaseFiles(url: string): Promise<Buffer[]> {
  const s = server!;
  const name = new URL(url).pathname.slice(1);
  // Make the heap files current; the WAL holds the same tuples already.
  await s.psql('CHECKPOINT');
  const oid = (await s.psql(`SELECT oid FROM pg_database WHERE datname = '${name}'`)).trim();
  return [...readAllFiles(join(s.dataDir, 'base', oid)), ...readAllFiles(join(s.dataDir, 'pg_wal'))];
}

async function openStore(url: string, key: Uint8Array): Promise<PostgresStore> {
  return PostgresStore.open({ url, secrets: new SecretBox(key, rng), maxConnections: 4 });
}

describe.skipIf(!hasPostgres())('PostgresStore (skipped when no PostgreSQL server binaries are installed; scripts/bootstrap installs postgresql)', () => {
  storeContract(
    'PostgresStore',
    async () => {
      const url = await server!.createDatabase();
      const key = rng(32);
      let store = await openStore(url, key);
      return {
        get store() {
          return store;
        },
        async reopen() {
          await store.close();
          store = await openStore(url, key);
          return store;
        },
        openWithKey: (other) => openStore(url, other),
        containsAtRest: async (needle) => (await databaseFiles(url)).some((b) => b.includes(needle)),
        migrationsApplied: () => store.migrationsApplied(),
        cleanup: () => store.close(),
      };
    },
    { migrations: POSTGRES_MIGRATIONS.map((m) => m.version) },
  );

  describe('several replicas on one database', () => {
    const open: PostgresStore[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    async function replicas(n: number): Promise<PostgresStore[]> {
      const url = await server!.createDatabase();
      const key = rng(32);
      // All at once on a fresh database: the migrations must run exactly once.
      const stores = await Promise.all(Array.from({ length: n }, () => openStore(url, key)));
      open.push(...stores);
      return stores;
    }

    it('migrates once when replicas start together', async () => {
      const [a, b, c] = await replicas(3);
      for (const s of [a!, b!, c!]) expect(await s.migrationsApplied()).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    });

    it('never hands out the same message id twice to concurrent writers', async () => {
      const [a, b] = await replicas(2);
      await a!.addHost(hostInput('hv-01'), 1);
      const batches = Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a! : b!).apply([
          { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([i]), messageKind: 'hello', atMs: i },
          { kind: 'message.allocate', hostId: 'hv-01' },
        ]),
      );
      const ids = (await Promise.all(batches)).flatMap((r) => r.messageIds);
      expect(ids.sort((x, y) => x - y)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      expect((await b!.getHost('hv-01'))?.nextMessageId).toBe(81);
      expect(await a!.listOutbox('hv-01')).toHaveLength(40);
    });

    it('lets exactly one of two racing transitions from the same state win', async () => {
      const [a, b] = await replicas(2);
      await a!.addHost(hostInput('hv-01'), 1);
      for (let i = 0; i < 10; i++) {
        const id = `c${i}`;
        await a!.apply([commandInsert(id)]);
        const outcomes = await Promise.allSettled([
          a!.apply([{ kind: 'command.transition', id, from: 'queued', to: 'sent', atMs: 2, detail: 'a' }]),
          b!.apply([{ kind: 'command.transition', id, from: 'queued', to: 'expired', atMs: 2, detail: 'b' }]),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toBeInstanceOf(StoreConflictError);
        expect((await b!.getCommand(id))?.events).toHaveLength(2);
      }
    });

    it('keeps epochs and ids above 2^31 as numbers', async () => {
      const [a] = await replicas(1);
      await a!.addHost(hostInput('hv-01'), 1);
      await a!.apply([{ kind: 'host.epochs', hostId: 'hv-01', q1Epoch: 0xffffffff, q2Epoch: 2 ** 40 }]);
      expect(await a!.getHost('hv-01')).toMatchObject({ q1Epoch: 0xffffffff, q2Epoch: 2 ** 40 });
    });

    it('gives each host link to one replica at a time, and to another once the lease expires or is released', async () => {
      const [a, b] = await replicas(2);
      for (const h of ['hv-01', 'hv-02']) await a!.addHost(hostInput(h), 1);
      expect(await a!.claimLinks('A', ['hv-01', 'hv-02', 'hv-unknown'], 60_000)).toEqual(['hv-01', 'hv-02']);
      expect(await b!.claimLinks('B', ['hv-01', 'hv-02'], 60_000)).toEqual([]);
      expect(await a!.claimLinks('A', ['hv-01', 'hv-02'], 300)).toEqual(['hv-01', 'hv-02']); // renewal, now short
      expect((await b!.listLinkLeases()).map((l) => [l.hostId, l.owner, l.generation])).toEqual([
        ['hv-01', 'A', 1],
        ['hv-02', 'A', 1],
      ]);
      await new Promise((r) => setTimeout(r, 400));
      expect(await b!.claimLinks('B', ['hv-01'], 60_000)).toEqual(['hv-01']);
      expect(await a!.claimLinks('A', ['hv-01', 'hv-02'], 60_000)).toEqual(['hv-02']);
      const leases = await a!.listLinkLeases();
      expect(leases.map((l) => [l.hostId, l.owner, l.generation])).toEqual([
        ['hv-01', 'B', 2],
        ['hv-02', 'A', 1],
      ]);
      expect(leases[0]!.expiresAtMs).toBeGreaterThan(leases[0]!.acquiredAtMs + 59_000);
      await b!.releaseLinks('A', ['hv-01']); // not A's: nothing happens
      expect(await a!.claimLinks('A', ['hv-01'], 60_000)).toEqual([]);
      await b!.releaseLinks('B', ['hv-01']);
      expect(await a!.claimLinks('A', ['hv-01'], 60_000)).toEqual(['hv-01']);
      await a!.removeHost('hv-02');
      expect((await a!.listLinkLeases()).map((l) => l.hostId)).toEqual(['hv-01']);
      expect(await b!.claimLinks('B', [], 1_000)).toEqual([]);
    });

    it('wakes every listening replica when a message is queued, and only once it is committed', async () => {
      const [a, b] = await replicas(2);
      await a!.addHost(hostInput('hv-01'), 1);
      const woken: string[] = [];
      const listener = await b!.listenForWakes((h) => woken.push(h));
      try {
        await expect(
          a!.apply([
            { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'hello', atMs: 1 },
            { kind: 'command.transition', id: 'missing', from: 'queued', to: 'sent', atMs: 1, detail: '' },
          ]),
        ).rejects.toThrow(/no command missing/);
        await a!.apply([{ kind: 'inbound.window', hostId: 'hv-01', window: { highest: 0, cumulative: 0, bitmap: new Uint8Array(8), size: 64 }, atMs: 1 }]);
        await a!.apply([
          commandInsert('c1'),
          { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'command_request', commandId: 'c1', atMs: 1 },
        ]);
        for (let i = 0; i < 100 && woken.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 100));
        expect(woken).toEqual(['hv-01']);
      } finally {
        await listener.close();
      }
    });
  });

  describe('lease keeper and configuration', () => {
    it('stops vouching for a lease on its own clock, before the database lets another replica take it', async () => {
      const url = await server!.createDatabase();
      const key = rng(32);
      const [a, b] = await Promise.all([openStore(url, key), openStore(url, key)]);
      try {
        await a.addHost(hostInput('hv-01'), 1);
        let now = 1_000_000;
        const keeperA = new LeaseKeeper({ leases: a, owner: 'A', ttlMs: 2_000, clock: () => now });
        const keeperB = new LeaseKeeper({ leases: b, owner: 'B', ttlMs: 2_000, clock: () => Date.now() });
        expect([keeperA.fenceMs, keeperA.renewEveryMs]).toEqual([1_333, 666]);
        expect(() => new LeaseKeeper({ leases: a, owner: 'x', ttlMs: 10, clock: () => 0 })).toThrow(RangeError);
        expect([...(await keeperA.claim(['hv-01']))]).toEqual(['hv-01']);
        expect(keeperA.holds('hv-01')).toBe(true);
        expect(keeperA.holds('hv-02')).toBe(false);
        expect([...(await keeperB.claim(['hv-01']))]).toEqual([]);
        expect(keeperB.holds('hv-01')).toBe(false);
        now += 1_332;
        expect(keeperA.holds('hv-01')).toBe(true);
        now += 1; // two thirds of the lease passed without a renewal: A lets go, while the database still says A
        expect(keeperA.holds('hv-01')).toBe(false);
        expect((await b.listLinkLeases())[0]).toMatchObject({ owner: 'A' });
        await keeperA.releaseAll();
        expect([...(await keeperB.claim(['hv-01']))]).toEqual(['hv-01']);
        expect(keeperB.holds('hv-01')).toBe(true);
        expect([...(await keeperA.claim(['hv-01']))]).toEqual([]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('opens the PostgreSQL store for a postgres:// db setting, and never shows its password', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vms-agent-pg-config-'));
      try {
        const keyFile = join(dir, 'master.key');
        writeFileSync(keyFile, formatMasterKey(rng(32)), { mode: 0o600 });
        writeFileSync(join(dir, 'c.json'), JSON.stringify({ db: await server!.createDatabase(), masterKeyFile: keyFile, linkLeaseMs: 4000 }));
        const config = loadConfig({ config: join(dir, 'c.json') }, {});
        expect(config.linkLeaseMs).toBe(4000);
        const store = await openLocalStore(config);
        try {
          expect(store).toBeInstanceOf(PostgresStore);
          expect(await (store as PostgresStore).migrationsApplied()).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        } finally {
          await store.close();
        }
        expect(loadConfig({ db: "x.db" }, {}).linkLeaseMs).toBe(3_000);
        writeFileSync(join(dir, 'bad.json'), JSON.stringify({ linkLeaseMs: 10 }));
        expect(() => loadConfig({ config: join(dir, 'bad.json') }, {})).toThrow(/linkLeaseMs/);
        expect(redactDb('postgres://vms:s3cret@db.example:5432/vms?sslmode=require')).toBe('postgres://vms:***@db.example:5432/vms?sslmode=require');
        expect(redactDb('postgresql://db.example/vms?password=s3cret')).not.toContain('s3cret');
        expect(redactDb('/var/lib/backchannel/vms.db')).toBe('/var/lib/backchannel/vms.db');
        // Nothing listens on the server's port once it is this far off: exit code 5, password not in the message.
        const closed = `postgres://postgres:s3cret@127.0.0.1:${server!.port === 1 ? 2 : 1}/none`;
        const err = await openLocalStore(loadConfig({ db: closed, 'master-key-file': keyFile }, {})).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CliError);
        expect(err).toMatchObject({ exitCode: 5, code: 'DB_UNREACHABLE' });
        expect((err as Error).message).not.toContain('s3cret');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('migration 3 (roles, token ids) on a database from before roles', () => {
    it('gives existing principals the default roles and keeps their tokens working', async () => {
      const url = await server!.createDatabase();
      const name = new URL(url).pathname.slice(1);
      // Versions 1 and 2 as the previous release applied them, with a principal and a token.
      const [v1, v2] = POSTGRES_MIGRATIONS;
      await server!.psql(
        `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL);
         ${v1!.sql} ${v2!.sql}
         INSERT INTO schema_migrations VALUES (1, 'initial schema', 1), (2, 'link leases', 1);
         INSERT INTO principals (name, public_key, created_at_ms) VALUES ('alice', 'ed25519:A', 1), ('bob', 'ed25519:B', 2);
         INSERT INTO tokens (hash, principal, label, created_at_ms) VALUES ('${'d4'.repeat(32)}', 'alice', 'old', 3);`,
        name,
      );
      const store = await openStore(url, rng(32));
      try {
        expect(await store.migrationsApplied()).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
        expect((await store.listPrincipals()).map((p) => [p.name, p.roles])).toEqual([
          ['alice', [...DEFAULT_ROLES]],
          ['bob', [...DEFAULT_ROLES]],
        ]);
        expect(await store.getToken('d4'.repeat(32))).toEqual({ id: 'd4'.repeat(8), principal: 'alice', label: 'old', createdAtMs: 3, roles: [...DEFAULT_ROLES] });
      } finally {
        await store.close();
      }
    });
  });
});
