import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeMessage, decodePublicKey, decodeSecretKey, requestDigest, v1 } from '@backchannel/proto';
import { buildApp, type ApiInstance } from '../../src/api/app.js';
import { ServiceMetrics } from '../../src/api/metrics.js';
import { CommandService } from '../../src/commands/command-service.js';
import { serviceKeyPair } from '../../src/keys/service-key.js';
import { main } from '../../src/main.js';
import { SecretBox, readMasterKeyFile } from '../../src/store/secret-box.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { rng } from '../helpers/temp-store.js';

/** Runs the CLI in-process and captures what it prints. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'vms-agent-cli-'));
const db = join(dir, 'vms.db');
const mk = join(dir, 'master.key');
const local = ['--db', db, '--master-key-file', mk];
let app: ApiInstance;
let store: SqliteStore;
let commands: CommandService;
let url = '';
let aliceToken = '';
let bobToken = '';

beforeAll(async () => {
  expect((await run('keygen', '--master-key', '--out', mk)).code).toBe(0);
  writeFileSync(join(dir, 'bmc.pw'), 'bmc-secret\n', { mode: 0o600 });
});
afterAll(async () => {
  try {
    await app?.close();
    await store?.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('vms-agent CLI', () => {
  it('prints help and refuses unknown commands with exit 2', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    for (const word of ['serve', 'keygen', 'hosts add', 'enrollment', 'principals add', 'principals roles', 'principals remove', 'tokens create', 'tokens list', 'tokens revoke', '--expires', 'vm start', 'commands show', 'approve ID --key FILE', 'alerts list', 'alerts ack ID --comment', 'bmc queue-info']) {
      expect(help.out).toContain(word);
    }
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('hosts', 'add', 'x', '--bogus-flag', ...local)).code).toBe(2);
  });

  it('writes 0600 key files and never overwrites one without --force', async () => {
    const key = join(dir, 'bob.key');
    const r = await run('keygen', '--out', key, '--json');
    expect(r.code).toBe(0);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(mk).mode & 0o777).toBe(0o600);
    const pub = JSON.parse(r.out).publicKey as string;
    expect(decodePublicKey(pub)).toHaveLength(32);
    expect((await run('keygen', '--out', key)).code).toBe(8);
  });

  it('adds principals, tokens and hosts in the local store, and writes the enrollment bundle', async () => {
    const alice = await run('principals', 'add', 'alice', '--custodial', '--json', ...local);
    expect(alice.code).toBe(0);
    const bobPub = decodeSecretKey(readFileSync(join(dir, 'bob.key'), 'utf8'));
    const bob = await run('principals', 'add', 'bob', '--public-key', `ed25519:${Buffer.from(bobPub.publicKey).toString('base64')}`, ...local);
    expect(bob.code).toBe(0);
    expect((await run('principals', 'add', 'bob', '--custodial', ...local)).code).toBe(8);
    expect((await run('principals', 'add', 'carol', ...local)).code).toBe(2);
    aliceToken = JSON.parse((await run('tokens', 'create', 'alice', '--json', ...local)).out).token;
    bobToken = JSON.parse((await run('tokens', 'create', 'bob', '--json', ...local)).out).token;
    expect((await run('tokens', 'create', 'nobody', ...local)).code).toBe(3);
    const add = await run('hosts', 'add', 'hv-01', '--bmc', '127.0.0.1:9623', '--user', 'oper', '--password-file', join(dir, 'bmc.pw'), ...local);
    expect(add.code, add.err).toBe(0);
    const list = JSON.parse((await run('hosts', 'list', '--json', ...local)).out);
    expect(list).toEqual([expect.objectContaining({ id: 'hv-01', bmcAddress: '127.0.0.1', bmcPort: 9623, bmcUser: 'oper', cipherSuites: [17, 3] })]);
    expect(JSON.stringify(list)).not.toContain('bmc-secret');
    const bundleFile = join(dir, 'hv-01.json');
    expect((await run('hosts', 'enrollment', 'hv-01', '--out', bundleFile, ...local)).code).toBe(0);
    expect(statSync(bundleFile).mode & 0o777).toBe(0o600);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8'));
    expect(bundle).toMatchObject({ version: 1, hostId: 'hv-01' });
    expect(Buffer.from(bundle.seed, 'base64')).toHaveLength(32);
    expect(bundle.managerPublicKeys).toHaveLength(1);
    expect((await run('hosts', 'enrollment', 'hv-99', '--out', join(dir, 'x.json'), ...local)).code).toBe(3);
    expect((await run('hosts', 'list', '--db', db)).code).toBe(2); // no master key
  });

  it('talks to a running API: issue, show, approve with an operator key file, alerts, exit codes', async () => {
    store = new SqliteStore({ path: db, secrets: new SecretBox(readMasterKeyFile(mk), rng) });
    commands = new CommandService({ store, clock: Date.now, randomBytes: rng, serviceKey: await serviceKeyPair(store, rng) });
    app = await buildApp({ store, commands, metrics: new ServiceMetrics(), clock: Date.now });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    const api = ['--url', url];
    const issued = await run('vm', 'destroy', 'hv-01', 'db-1', '--json', ...api, '--token', bobToken);
    expect(issued.code, issued.err).toBe(0);
    const id = JSON.parse(issued.out).id as string;
    expect(JSON.parse((await run('commands', 'show', id, '--json', ...api, '--token', bobToken)).out).state).toBe('queued');
    expect((await run('approve', id, '--key', join(dir, 'bob.key'), ...api, '--token', bobToken)).code).toBe(8); // not awaiting approval yet
    // the hypervisor's challenge arrives
    const c = await store.getCommand(id);
    const ch = v1.Challenge.create({ requestId: id, nonce: rng(32), expiresAtMs: Date.now() + 60_000, hostId: 'hv-01', approvalsRequired: 1, requestDigest: requestDigest(decodeMessage(v1.CommandRequest, c!.request, 'CommandRequest')) });
    await store.apply(await commands.onChallenge('hv-01', ch));
    const approved = await run('approve', id, '--key', join(dir, 'bob.key'), ...api, '--token', bobToken);
    expect(approved.code, approved.err).toBe(0);
    expect(approved.out).toContain('challenge response queued');
    const shown = await run('commands', 'show', id, ...api, '--token', bobToken);
    expect(shown.out).toContain('approved by bob');
    expect((await run('commands', 'list', '--state', 'awaiting_approval', '--json', ...api, '--token', aliceToken)).code).toBe(0);
    expect((await run('alerts', 'list', ...api, '--token', aliceToken)).out).toContain('no alerts');
    expect((await run('alerts', 'ack', '12', ...api, '--token', aliceToken)).code).toBe(2); // no --comment
    expect((await run('alerts', 'ack', '12', '--comment', 'benign', ...api, '--token', aliceToken)).code).toBe(4); // alice lacks the security role
    expect((await run('vm', 'list', 'hv-01', ...api, '--token', aliceToken)).code).toBe(3); // no status report yet
    expect((await run('vm', 'start', 'hv-99', 'db-1', ...api, '--token', aliceToken)).code).toBe(3);
    expect((await run('vm', 'start', 'hv-01', 'db-1', ...api, '--token', 'bct_wrong-token-value')).code).toBe(4);
    const unreachable = await run('vm', 'start', 'hv-01', 'db-1', '--url', 'http://127.0.0.1:1', '--token', aliceToken);
    expect(unreachable.code).toBe(5);
    expect(unreachable.err).toContain('vms-agent serve');
  });

  it('--wait follows a command to its final state and maps it to an exit code', async () => {
    const api = ['--url', url, '--token', aliceToken];
    const pending = run('vm', 'start', 'hv-01', 'web-1', '--wait', '--timeout', '10', '--json', ...api);
    // the result arrives while the CLI waits
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) {
      await new Promise((r) => setTimeout(r, 20));
      id = (await store.listCommands({ states: ['queued'] })).find((c) => c.domain === 'web-1')?.id;
    }
    await store.apply(await commands.onResult('hv-01', v1.CommandResult.create({ requestId: id!, outcome: v1.Outcome.OUTCOME_DENIED, errorCode: 'ERR_NOT_PERMITTED', errorMessage: 'alice may not start web-1' })));
    const r = await pending;
    expect(r.code).toBe(6);
    expect(JSON.parse(r.out).state).toBe('denied');
  });
});
