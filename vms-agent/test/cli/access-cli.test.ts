/**
 * `vms-agent principals …` and `tokens …` against a real SQLite store, and
 * what the API then says to the tokens they made: roles take effect at the
 * next request, a revoked or expired token gets a 401 that says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type ApiInstance } from '../../src/api/app.js';
import { ServiceMetrics } from '../../src/api/metrics.js';
import { parseExpiry } from '../../src/cli/access-commands.js';
import { CommandService } from '../../src/commands/command-service.js';
import { DEFAULT_ROLES } from '../../src/roles.js';
import { readMasterKeyFile, SecretBox } from '../../src/store/secret-box.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { runCli as run } from '../helpers/run-cli.js';
import { rng } from '../helpers/temp-store.js';

const dir = mkdtempSync(join(tmpdir(), 'vms-agent-access-cli-'));
const mk = join(dir, 'master.key');
const local = ['--db', join(dir, 'vms.db'), '--master-key-file', mk];
const DAY = 86_400_000;
let app: ApiInstance;
let store: SqliteStore;
/** The API's clock runs `skewMs` ahead of the machine's, to see an expiry without waiting for it. */
let skewMs = 0;

beforeAll(async () => {
  expect((await run('keygen', '--master-key', '--out', mk)).code).toBe(0);
  store = new SqliteStore({ path: join(dir, 'vms.db'), secrets: new SecretBox(readMasterKeyFile(mk), rng) });
  const clock = () => Date.now() + skewMs;
  app = await buildApp({ store, commands: new CommandService({ store, clock, randomBytes: rng }), metrics: new ServiceMetrics(), clock });
});
afterAll(async () => {
  try {
    await app?.close();
    await store?.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const get = (token: string, url = '/v1/hosts') => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

describe('vms-agent principals', () => {
  it('adds with default or given roles, lists them, refuses bad names and roles', async () => {
    const alice = await run('principals', 'add', 'alice', '--custodial', '--json', ...local);
    expect(alice.code, alice.err).toBe(0);
    expect(JSON.parse(alice.out)).toMatchObject({ name: 'alice', custodial: true, roles: [...DEFAULT_ROLES] });
    const sec = await run('principals', 'add', 'sec', '--custodial', '--roles', 'viewer,security', ...local);
    expect(sec.out).toContain('roles security,viewer');
    for (const bad of [['x y'], ['db-1\u0000'], ['ok', '--roles', 'admin'], ['ok', '--roles', 'operator,root'], ['ok', '--roles', '']]) {
      const r = await run('principals', 'add', bad[0]!, '--custodial', ...bad.slice(1), ...local);
      expect(r.code, bad.join(' ')).toBe(2);
    }
    expect((await run('principals', 'add', 'viewer-only', '--custodial', '--roles', 'none', ...local)).code).toBe(0);
    const list = JSON.parse((await run('principals', 'list', '--json', ...local)).out) as { name: string; roles: string[] }[];
    expect(list.map((p) => [p.name, p.roles])).toEqual([
      ['alice', [...DEFAULT_ROLES]],
      ['sec', ['security', 'viewer']],
      ['viewer-only', []],
    ]);
    expect((await run('principals', 'list', ...local)).out).toMatch(/alice\s+operator,approver,viewer\s+custodial/);
  });

  it('shows and replaces roles; the API applies them at the next request', async () => {
    const token = JSON.parse((await run('tokens', 'create', 'viewer-only', '--json', ...local)).out).token as string;
    const forbidden = await get(token);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('viewer-only has no role') });
    expect((await run('principals', 'roles', 'viewer-only', ...local)).out).toContain('viewer-only: none');
    const set = await run('principals', 'roles', 'viewer-only', 'viewer', ...local);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain('viewer-only: viewer (was none)');
    expect((await get(token)).statusCode).toBe(200);
    expect((await run('principals', 'roles', 'viewer-only', 'superuser', ...local)).code).toBe(2);
    expect((await run('principals', 'roles', 'nobody', 'viewer', ...local)).code).toBe(3);
  });

  it('removes a principal with its tokens', async () => {
    expect((await run('principals', 'add', 'temp', '--custodial', ...local)).code).toBe(0);
    const token = JSON.parse((await run('tokens', 'create', 'temp', '--json', ...local)).out).token as string;
    expect((await get(token)).statusCode).toBe(200);
    const removed = await run('principals', 'remove', 'temp', ...local);
    expect(removed.code, removed.err).toBe(0);
    expect(removed.out).toContain('its 1 token(s)');
    const after = await get(token);
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('unknown token') });
    expect((await run('principals', 'remove', 'temp', ...local)).code).toBe(3);
  });
});

describe('vms-agent tokens', () => {
  it('creates with --expires, lists with state, and an expired token gets 401 TOKEN_EXPIRED', async () => {
    const before = Date.now();
    const made = await run('tokens', 'create', 'alice', '--expires', '30d', '--label', 'laptop', '--json', ...local);
    expect(made.code, made.err).toBe(0);
    const { token, id, expiresAtMs } = JSON.parse(made.out) as { token: string; id: string; expiresAtMs: number };
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + 30 * DAY);
    expect((await get(token)).statusCode).toBe(200);
    skewMs = 31 * DAY;
    try {
      const expired = await get(token);
      expect(expired.statusCode).toBe(401);
      expect(expired.json()).toMatchObject({ code: 'TOKEN_EXPIRED', message: expect.stringContaining(`token ${id} of alice expired at ${new Date(expiresAtMs).toISOString()}`) });
    } finally {
      skewMs = 0;
    }
    const list = JSON.parse((await run('tokens', 'list', '--principal', 'alice', '--json', ...local)).out) as { id: string; state: string; label: string }[];
    expect(list.find((t) => t.id === id)).toMatchObject({ state: 'active', label: 'laptop' });
    for (const bad of ['30x', '-1d', '2001-01-01', 'tomorrow', '0d']) expect((await run('tokens', 'create', 'alice', '--expires', bad, ...local)).code, bad).toBe(2);
    expect((await run('tokens', 'create', 'nobody', ...local)).code).toBe(3);
  });

  it('revokes: the next request gets 401 TOKEN_REVOKED, the CLI exits 4 and says so', async () => {
    const { token, id } = JSON.parse((await run('tokens', 'create', 'sec', '--json', ...local)).out) as { token: string; id: string };
    expect((await get(token, '/v1/alerts')).statusCode).toBe(200);
    const revoked = await run('tokens', 'revoke', id, ...local);
    expect(revoked.code, revoked.err).toBe(0);
    expect(revoked.out).toContain(`revoked token ${id} of sec`);
    expect((await run('tokens', 'revoke', id, ...local)).out).toContain('already revoked');
    const res = await get(token, '/v1/alerts');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'TOKEN_REVOKED', message: expect.stringContaining(`token ${id} of sec was revoked at`) });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const cli = await run('alerts', 'list', '--url', url, '--token', token);
    expect(cli.code).toBe(4);
    expect(cli.err).toContain('was revoked at');
    const malformed = await run('alerts', 'list', '--url', url, '--token', 'not-a-token');
    expect(malformed.code).toBe(4);
    expect(malformed.err).toContain('malformed Authorization header');
    const rows = (await run('tokens', 'list', ...local)).out;
    expect(rows).toMatch(new RegExp(`${id}\\s+sec\\s+revoked`));
    expect((await run('tokens', 'revoke', 'ffffffffffffffff', ...local)).code).toBe(3);
    expect((await run('tokens', 'revoke', 'abc', ...local)).code).toBe(2);
  });

  it('parses --expires', () => {
    const now = Date.UTC(2027, 0, 1);
    expect(parseExpiry('90m', now)).toBe(now + 90 * 60_000);
    expect(parseExpiry('12h', now)).toBe(now + 12 * 3_600_000);
    expect(parseExpiry('2w', now)).toBe(now + 14 * DAY);
    expect(parseExpiry('2027-01-31', now)).toBe(Date.UTC(2027, 0, 31));
    expect(parseExpiry('2027-01-02T12:00Z', now)).toBe(Date.UTC(2027, 0, 2, 12));
    expect(parseExpiry('never', now)).toBeUndefined();
  });
});
