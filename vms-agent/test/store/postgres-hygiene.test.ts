/**
 * A replica cut off from PostgreSQL does not block the others: a real
 * server, one replica's connections through a TCP proxy that is frozen
 * (forwards nothing, keeps the connections open) while that replica is
 * inside a transaction holding a row lock. The server ends the frozen
 * session (idle_in_transaction_session_timeout), which releases the lock:
 * the other replica's write on the same row goes through while the proxy
 * is still frozen, and the frozen replica's own queries fail in the client
 * (query_timeout) instead of hanging.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FreezableProxy } from '../../../test/src/replicas/freezable-proxy.js';
import { hasPostgres, type PostgresServer, startPostgres } from '../../../test/src/harness/postgres.js';
import { postgresClientConfig, postgresSessionSettings } from '../../src/store/postgres-session.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { hostInput, rng } from '../helpers/temp-store.js';

let server: PostgresServer | undefined;
beforeAll(async () => {
  if (hasPostgres()) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

// Short, so the test is quick; the order is the defaults' (idle < lock).
const SESSION = { idleInTransactionTimeoutMs: 1_000, lockTimeoutMs: 4_000, statementTimeoutMs: 1_500, connectTimeoutMs: 2_000 };
const window = { highest: 3, cumulative: 3, bitmap: new Uint8Array(8), size: 64 };

describe.skipIf(!hasPostgres())('PostgreSQL hygiene (skipped when no PostgreSQL server binaries are installed)', () => {
  it('every pooled session carries the configured timeouts and keepalives', async () => {
    const url = await server!.createDatabase();
    const store = await PostgresStore.open({ url, secrets: new SecretBox(rng(32), rng), session: SESSION });
    try {
      expect(await store.sessionSetting('idle_in_transaction_session_timeout')).toBe('1s');
      expect(await store.sessionSetting('lock_timeout')).toBe('4s');
      expect(await store.sessionSetting('statement_timeout')).toBe('1500ms');
      expect(await store.sessionSetting('tcp_keepalives_idle')).toBe('5');
      expect(await store.sessionSetting('tcp_keepalives_count')).toBe('3');
      await expect(store.sessionSetting('x; drop')).rejects.toThrow(RangeError);
    } finally {
      await store.close();
    }
  });

  it('a replica frozen inside a transaction holds its row lock only until the server ends its session', async () => {
    const url = await server!.createDatabase();
    const key = rng(32);
    const proxy = await FreezableProxy.start(server!.port);
    const viaProxy = url.replace(`:${server!.port}/`, `:${proxy.port}/`);
    const other = await PostgresStore.open({ url, secrets: new SecretBox(key, rng), session: SESSION });
    const cutOff = await PostgresStore.open({ url: viaProxy, secrets: new SecretBox(key, rng), session: SESSION });
    const stuck = new pg.Client(postgresClientConfig(viaProxy, postgresSessionSettings(SESSION)));
    stuck.on('error', () => undefined);
    try {
      await other.addHost(hostInput('hv-01'), 1);
      await other.apply([{ kind: 'inbound.window', hostId: 'hv-01', window, atMs: 1 }]);
      // The cut-off replica's transaction takes the replay window's row lock, then its path freezes.
      await stuck.connect();
      await stuck.query('BEGIN');
      await stuck.query("UPDATE inbound_windows SET highest = 4 WHERE host_id = 'hv-01'");
      proxy.freeze();
      // The other replica writes the same row: it waits for the lock, which the server frees by ending
      // the frozen session after idle_in_transaction_session_timeout (before lock_timeout would fail it).
      await other.apply([{ kind: 'inbound.window', hostId: 'hv-01', window: { ...window, highest: 9, cumulative: 9 }, atMs: 2 }]);
      expect(proxy.frozen).toBe(true);
      expect((await other.getInboundWindow('hv-01'))?.highest).toBe(9);
      // The frozen replica's own work fails in the client rather than hanging.
      await expect(cutOff.listHosts()).rejects.toThrow(/timeout/i);
      proxy.thaw();
      // Its old session is gone: the transaction was rolled back, not committed late.
      await expect(stuck.query('COMMIT')).rejects.toThrow();
      expect((await other.getInboundWindow('hv-01'))?.highest).toBe(9);
      // And the replica recovers by itself once the path works again.
      expect((await cutOff.listHosts()).map((h) => h.id)).toEqual(['hv-01']);
    } finally {
      proxy.thaw();
      await stuck.end().catch(() => undefined);
      await Promise.all([other.close(), cutOff.close()]);
      await proxy.close();
    }
  }, 30_000);
});
