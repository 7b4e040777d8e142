/** The PostgreSQL session settings (pure): defaults, validation, and what reaches node-postgres. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/cli/config.js';
import { DEFAULT_POSTGRES_SESSION, postgresClientConfig, postgresSessionSettings } from '../../src/store/postgres-session.js';

describe('PostgreSQL session settings', () => {
  it('has documented defaults that end a stuck transaction before a waiter gives up', () => {
    expect(DEFAULT_POSTGRES_SESSION).toEqual({ idleInTransactionTimeoutMs: 4_000, lockTimeoutMs: 5_000, statementTimeoutMs: 10_000, keepAliveIdleMs: 5_000, maxConnections: 10, connectTimeoutMs: 5_000 });
    expect(DEFAULT_POSTGRES_SESSION.idleInTransactionTimeoutMs).toBeLessThan(DEFAULT_POSTGRES_SESSION.lockTimeoutMs);
  });

  it('puts every setting on each connection', () => {
    const c = postgresClientConfig('postgres://u@h/db', postgresSessionSettings({ keepAliveIdleMs: 7_400 }), { application_name: 'x' });
    expect(c).toMatchObject({
      connectionString: 'postgres://u@h/db',
      application_name: 'x',
      statement_timeout: 10_000,
      lock_timeout: 5_000,
      idle_in_transaction_session_timeout: 4_000,
      query_timeout: 12_000,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 7_400,
      options: '-c tcp_keepalives_idle=7 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3',
    });
  });

  it('refuses values that are not whole numbers in range, naming the setting', () => {
    expect(() => postgresSessionSettings({ lockTimeoutMs: 0 })).toThrow(/lockTimeoutMs/);
    expect(() => postgresSessionSettings({ maxConnections: 0 })).toThrow(/maxConnections/);
    expect(() => postgresSessionSettings({ statementTimeoutMs: 1.5 })).toThrow(/statementTimeoutMs/);
    expect(postgresSessionSettings({ maxConnections: 1 }).maxConnections).toBe(1);
  });

  it('reads the "postgres" object of the config file, and refuses unknown keys and bad values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vms-agent-pg-session-'));
    try {
      const file = (name: string, body: unknown) => {
        writeFileSync(join(dir, name), JSON.stringify(body));
        return join(dir, name);
      };
      expect(loadConfig({ db: 'x.db' }, {}).postgres).toEqual(DEFAULT_POSTGRES_SESSION);
      expect(loadConfig({ config: file('ok.json', { postgres: { lockTimeoutMs: 2_000, maxConnections: 4 } }) }, {}).postgres).toEqual({ ...DEFAULT_POSTGRES_SESSION, lockTimeoutMs: 2_000, maxConnections: 4 });
      expect(() => loadConfig({ config: file('u.json', { postgres: { lockTimeout: 2 } }) }, {})).toThrow(/unknown key "postgres.lockTimeout"/);
      expect(() => loadConfig({ config: file('b.json', { postgres: { statementTimeoutMs: -1 } }) }, {})).toThrow(/statementTimeoutMs/);
      expect(() => loadConfig({ config: file('a.json', { postgres: [] }) }, {})).toThrow(/must be an object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
