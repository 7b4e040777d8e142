/**
 * The CLI as an operator uses it against a running API (a real fastify app
 * on a real SQLite store, listening on 127.0.0.1): hosts status, --wait
 * stopping at awaiting_approval (exit 9) or signing with --key, approve
 * --wait, a malformed token, versions, key files, the system config file,
 * metric series of removed hosts, and the forced exit after the grace period.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeMessage, decodePublicKey, encodeMessage, requestDigest, v1 } from '@backchannel/proto';
import { buildApp, type ApiInstance } from '../../src/api/app.js';
import { ServiceMetrics } from '../../src/api/metrics.js';
import type { LinkHealth } from '../../src/api/views.js';
import { CommandService } from '../../src/commands/command-service.js';
import { loadConfig } from '../../src/cli/config.js';
import { hostsStatusTable } from '../../src/cli/hosts-status.js';
import { stopSignal } from '../../src/cli/shutdown.js';
import { serviceKeyPair } from '../../src/keys/service-key.js';
import { LinkManager } from '../../src/link/link-manager.js';
import { main } from '../../src/main.js';
import { SecretBox, readMasterKeyFile } from '../../src/store/secret-box.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { rng } from '../helpers/temp-store.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const dir = mkdtempSync(join(tmpdir(), 'vms-agent-opcli-'));
const db = join(dir, 'vms.db');
const mk = join(dir, 'master.key');
const local = ['--db', db, '--master-key-file', mk];
let app: ApiInstance;
let store: SqliteStore;
let commands: CommandService;
let api: string[] = [];
let bobToken = '';
let aliceToken = '';
/** What the (absent) link reports for hv-01; the test changes it. */
let health: LinkHealth | undefined;

beforeAll(async () => {
  expect((await run('keygen', '--master-key', '--out', mk)).code).toBe(0);
  writeFileSync(join(dir, 'bmc.pw'), 'bmc-secret\n', { mode: 0o600 });
  const bob = await run('keygen', '--out', join(dir, 'bob.key'));
  expect(bob.code).toBe(0);
  expect((await run('principals', 'add', 'bob', '--public-key-file', join(dir, 'bob.key.pub'), ...local)).code).toBe(0);
  expect((await run('principals', 'add', 'alice', '--custodial', ...local)).code).toBe(0);
  bobToken = (await run('tokens', 'create', 'bob', ...local)).out.split('\n')[0]!;
  aliceToken = (await run('tokens', 'create', 'alice', ...local)).out.split('\n')[0]!;
  expect((await run('hosts', 'add', 'hv-01', '--bmc', '127.0.0.1:9623', '--user', 'oper', '--password-file', join(dir, 'bmc.pw'), ...local)).code).toBe(0);
  store = new SqliteStore({ path: db, secrets: new SecretBox(readMasterKeyFile(mk), rng) });
  commands = new CommandService({ store, clock: Date.now, randomBytes: rng, serviceKey: await serviceKeyPair(store, rng) });
  app = await buildApp({ store, commands, metrics: new ServiceMetrics(), clock: Date.now, linkHealth: () => health });
  api = ['--url', await app.listen({ host: '127.0.0.1', port: 0 })];
});
afterAll(async () => {
  try {
    await app?.close();
    await store?.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The hypervisor's challenge for a queued command, as the link would store it. */
async function challenge(id: string): Promise<void> {
  const c = await store.getCommand(id);
  const ch = v1.Challenge.create({ requestId: id, nonce: rng(32), expiresAtMs: Date.now() + 60_000, hostId: 'hv-01', approvalsRequired: 1, requestDigest: requestDigest(decodeMessage(v1.CommandRequest, c!.request, 'CommandRequest')) });
  await store.apply(await commands.onChallenge('hv-01', ch));
}

async function queuedId(domain: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const c = (await store.listCommands({ states: ['queued'] })).find((x) => x.domain === domain);
    if (c) return c.id;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no queued command for ${domain}`);
}

/** The challenge response has been queued (every approval collected). */
async function awaitResponse(id: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await store.getCommand(id))?.responseSent) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no challenge response for ${id}`);
}

describe('vms-agent CLI for operators', () => {
  it('reports the version of package.json, in --version and in the OpenAPI document', async () => {
    expect((await run('--version')).out.trim()).toBe(pkg.version);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { info: { version: string } };
    expect(doc.info.version).toBe(pkg.version);
  });

  it('keygen writes the public key beside the secret key', async () => {
    const pub = readFileSync(join(dir, 'bob.key.pub'), 'utf8');
    expect(decodePublicKey(pub)).toHaveLength(32);
    expect(statSync(join(dir, 'bob.key')).mode & 0o777).toBe(0o600);
  });

  it('says what is wrong with a malformed token instead of "missing bearer token", without echoing it', async () => {
    for (const [token, why] of [
      [`${bobToken}\r\nextra`, /white space or a line break/],
      ['"bct_quoted-value"', /character a bearer token cannot hold/],
      ['short', /at least 8/],
    ] as const) {
      const r = await run('vm', 'start', 'hv-01', 'web-1', ...api, '--token', token);
      expect(r.code).toBe(4);
      expect(r.err).toMatch(/API token is malformed/);
      expect(r.err).toMatch(why);
      expect(r.err).not.toContain('missing bearer token');
      expect(r.err).not.toContain(bobToken);
    }
  });

  it('--wait returns at awaiting_approval with exit 9 and the approve hint; approve --wait then follows it to the end', async () => {
    const pending = run('vm', 'shutdown', 'hv-01', 'web-1', '--wait', '--timeout', '20', ...api, '--token', bobToken);
    const id = await queuedId('web-1');
    await challenge(id);
    const r = await pending;
    expect(r.code, r.err).toBe(9);
    expect(r.out).toContain('awaiting_approval');
    expect(r.out).toContain(`vms-agent approve ${id} --key FILE`);

    const approving = run('approve', id, '--key', join(dir, 'bob.key'), '--wait', '--timeout', '20', '--json', ...api, '--token', bobToken);
    await awaitResponse(id);
    await store.apply(await commands.onResult('hv-01', v1.CommandResult.create({ requestId: id, outcome: v1.Outcome.OUTCOME_APPLIED, previousState: v1.DomainState.DOMAIN_STATE_RUNNING, newState: v1.DomainState.DOMAIN_STATE_SHUTOFF })));
    const a = await approving;
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out).state).toBe('applied');
  });

  it('--wait --key signs the challenge on this machine and waits for the result', async () => {
    const pending = run('vm', 'start', 'hv-01', 'web-2', '--wait', '--key', join(dir, 'bob.key'), '--timeout', '20', ...api, '--token', bobToken);
    const id = await queuedId('web-2');
    await challenge(id);
    await awaitResponse(id);
    await store.apply(await commands.onResult('hv-01', v1.CommandResult.create({ requestId: id, outcome: v1.Outcome.OUTCOME_FAILED, errorCode: 'VIR_ERR_OPERATION_INVALID', errorMessage: 'domain is already running' })));
    const r = await pending;
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain(`signing: start web-2 on hv-01, requested by bob`);
    expect(r.out).toContain('VIR_ERR_OPERATION_INVALID');
    expect((await run('vm', 'start', 'hv-01', 'web-2', '--key', join(dir, 'bob.key'), ...api, '--token', bobToken)).code).toBe(2); // --key without --wait
  });

  it('hosts status shows the link, unacknowledged messages, queue depths and report age from the API; --wait waits for link and report', async () => {
    health = undefined;
    const stopped = await run('hosts', 'status', ...api, '--token', aliceToken);
    expect(stopped.code, stopped.err).toBe(0);
    expect(stopped.out).toMatch(/hv-01\s+stopped/);
    expect(stopped.out).toContain('no link running in this process');
    expect(stopped.out).toContain('none yet');
    expect((await run('hosts', 'status', 'hv-99', ...api, '--token', aliceToken)).code).toBe(3);

    health = { state: 'up', since: Date.now() - 5_000, lastError: null, unacked: 2, lastReceiveAtMs: Date.now(), queues: { atMs: Date.now(), toHost: { depth: 3, usedBytes: 384, capacityBytes: 65536 }, toManager: { depth: 0, usedBytes: 0, capacityBytes: 65536 } } };
    const early = await run('hosts', 'status', 'hv-01', '--wait', '0.3', ...api, '--token', aliceToken);
    expect(early.code).toBe(7); // up, but no status report yet
    expect(early.err).toContain('hv-01 still has no link up with a status report');

    const waiting = run('hosts', 'status', 'hv-01', '--wait', '20', ...api, '--token', aliceToken);
    const report = encodeMessage(v1.StatusReport, v1.StatusReport.create({ hostId: 'hv-01', reportSeq: 1, timeMs: Date.now(), domains: [] }), 'StatusReport');
    await store.apply([{ kind: 'status.upsert', status: { hostId: 'hv-01', report, reportSeq: 1, timeMs: Date.now(), receivedAtMs: Date.now() } }]);
    const r = await waiting;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/hv-01\s+up \d+s\s+2\s+3 \(384B\)\s+0 \(0B\)\s+\d+(ms|s) ago/);
    const json = JSON.parse((await run('hosts', 'status', '--json', ...api, '--token', aliceToken)).out) as { hosts: { link: { queues: unknown } }[] };
    expect(json.hosts[0]!.link.queues).toMatchObject({ toHost: { depth: 3 } });
  });

  it('shows the clock offset when the service reports one', () => {
    const base = { id: 'hv-02', bmc: { address: 'b', port: 623, user: 'u', privilege: 'operator', cipherSuites: [17] }, hostPublicKey: null, policyInfo: null, status: null };
    const link = { state: 'up', sinceMs: 0, lastError: null, unacked: 0, lastReceiveAtMs: null, queues: null };
    expect(hostsStatusTable([{ ...base, link }], 1000)).toMatch(/hv-02.*\s-\s/);
    expect(hostsStatusTable([{ ...base, link: { ...link, clockOffsetMs: 75_400 } } as never], 1000)).toContain('+75.4s');
    expect(hostsStatusTable([{ ...base, link: { ...link, clockOffsetMs: -12 } } as never], 1000)).toContain('-12ms');
  });

  it('reads the system config /etc/vms-agent/vms-agent.json last, and a tokenFile relative to its config file', () => {
    const sys = join(dir, 'system.json');
    writeFileSync(join(dir, 'token'), `${aliceToken}\n`);
    writeFileSync(sys, JSON.stringify({ db: '/var/lib/vms-agent/vms.db', masterKeyFile: '/etc/vms-agent/master.key', tokenFile: 'token', listen: '0.0.0.0:8480' }));
    const home = { HOME: join(dir, 'nohome') };
    const c = loadConfig({}, home, sys);
    expect(c).toMatchObject({ db: '/var/lib/vms-agent/vms.db', masterKeyFile: '/etc/vms-agent/master.key', token: aliceToken, listenHost: '0.0.0.0' });
    expect(loadConfig({ db: 'x.db' }, home, sys).db).toBe('x.db'); // flags still win
    expect(loadConfig({}, home, join(dir, 'absent.json')).db).toBe('vms-agent.db');
    writeFileSync(sys, JSON.stringify({ tokenFile: 'missing-token' }));
    expect(() => loadConfig({}, home, sys)).toThrow(/cannot read tokenFile .*missing-token/);
  });

  it('drops the metric series of a host removed from the store', async () => {
    const metrics = new ServiceMetrics();
    const links = new LinkManager({
      store,
      commands,
      connector: () => Promise.reject(new Error('BMC unreachable')),
      clock: Date.now,
      randomBytes: rng,
      random: Math.random,
      metrics,
      agentVersion: pkg.version,
      housekeepingMs: 60_000,
    });
    try {
      await links.refresh();
      metrics.linkUp.set({ host: 'hv-01' }, 0);
      metrics.inboundRejected.inc({ host: 'hv-01', code: 'ERR_ENVELOPE_TAMPERED' });
      metrics.linkUp.set({ host: 'hv-gone' }, 1);
      metrics.inboundRejected.inc({ host: 'hv-gone', code: 'ERR_ENVELOPE_TAMPERED' });
      await links.refresh();
      const text = await metrics.registry.metrics();
      expect(text).toContain('vms_agent_link_up{host="hv-01"}');
      expect(text).toContain('vms_agent_inbound_rejected_total{host="hv-01"');
      expect(text).not.toContain('hv-gone');
    } finally {
      await links.stop();
    }
  });

  it('serve exits 1 when a graceful stop overruns its grace period, or at a second signal', async () => {
    const before = { INT: process.listeners('SIGINT'), TERM: process.listeners('SIGTERM') };
    const exits: number[] = [];
    const events: string[] = [];
    try {
      const stopped = stopSignal({ graceMs: 50, onSignal: (s) => events.push(`signal ${s}`), onForced: (why) => events.push(`forced: ${why}`), exit: (c) => exits.push(c) });
      process.emit('SIGTERM', 'SIGTERM');
      expect(await stopped).toBe('SIGTERM');
      await new Promise((r) => setTimeout(r, 120));
      expect(exits).toEqual([1]);
      expect(events).toEqual(['signal SIGTERM', 'forced: shutdown took longer than 50 ms']);
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([1, 1]);
      expect(events.at(-1)).toBe('forced: SIGINT during shutdown');
    } finally {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        const keep = sig === 'SIGINT' ? before.INT : before.TERM;
        for (const l of process.listeners(sig)) if (!keep.includes(l)) process.removeListener(sig, l);
      }
    }
  });
});
