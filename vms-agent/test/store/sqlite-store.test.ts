import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError } from '../../src/store/secret-box.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { StoreConflictError } from '../../src/store/store.js';
import { hostInput, rng, tempStore } from '../helpers/temp-store.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});
function open() {
  const t = tempStore();
  cleanups.push(() => t.cleanup());
  return t;
}

const commandInsert = (id: string, hostId = 'hv-01') => ({
  kind: 'command.insert' as const,
  command: {
    id,
    hostId,
    domain: 'db-1',
    action: 'start',
    params: { reason: 'test' },
    principal: 'alice',
    request: new Uint8Array([1, 2, 3]),
    createdAtMs: 1000,
  },
  detail: 'issued by alice',
});

describe('SqliteStore', () => {
  it('applies the migrations once and records them', async () => {
    const t = open();
    expect(t.store.migrationsApplied()).toEqual([1]);
    const again = await t.reopen();
    expect(again.migrationsApplied()).toEqual([1]);
  });

  it('keeps hosts, with BMC password and seed encrypted at rest', async () => {
    const t = open();
    await t.store.addHost(hostInput('hv-01', { hostPublicKey: 'ed25519:abc', policyInfo: 'ops policy v3' }), 1234);
    await expect(t.store.addHost(hostInput('hv-01'), 1)).rejects.toBeInstanceOf(StoreConflictError);
    const raw = readFileSync(t.path);
    expect(raw.includes(Buffer.from('secret-password'))).toBe(false);
    const host = await t.store.getHost('hv-01');
    expect(host).toMatchObject({ id: 'hv-01', bmcPort: 9623, cipherSuites: [17, 3], iana: 32473, hostPublicKey: 'ed25519:abc', nextMessageId: 1, q1Epoch: 0 });
    expect(host).not.toHaveProperty('bmcPassword');
    const secrets = await t.store.getHostSecrets('hv-01');
    expect(secrets?.bmcPassword).toBe('secret-password');
    expect(Array.from(secrets?.seed ?? [])).toEqual(new Array(32).fill(7));
    expect(await t.store.removeHost('hv-01')).toBe(true);
    expect(await t.store.removeHost('hv-01')).toBe(false);
    expect(await t.store.listHosts()).toEqual([]);
  });

  it('refuses to open secrets with another master key', async () => {
    const t = open();
    await t.store.addHost(hostInput('hv-01'), 1);
    await t.store.close();
    const other = new SqliteStore({ path: t.path, secrets: new SecretBox(rng(32), rng) });
    cleanups.push(() => other.close());
    await expect(other.getHostSecrets('hv-01')).rejects.toBeInstanceOf(SecretBoxError);
    await t.reopen();
  });

  it('maps token hashes to principals and keeps custodial keys encrypted', async () => {
    const t = open();
    await t.store.addPrincipal({ name: 'alice', publicKey: 'ed25519:A', secretKey: new Uint8Array(32).fill(9) }, 5);
    await t.store.addPrincipal({ name: 'bob', publicKey: 'ed25519:B' }, 6);
    await t.store.addToken({ hash: 'h1', principal: 'alice', label: 'ci' }, 7);
    await expect(t.store.addToken({ hash: 'h2', principal: 'nobody', label: 'x' }, 7)).rejects.toThrow(/no principal/);
    expect(await t.store.principalForToken('h1')).toBe('alice');
    expect(await t.store.principalForToken('nope')).toBeUndefined();
    expect((await t.store.listPrincipals()).map((p) => [p.name, p.custodial])).toEqual([
      ['alice', true],
      ['bob', false],
    ]);
    expect(Array.from((await t.store.getPrincipalSecretKey('alice')) ?? [])).toEqual(new Array(32).fill(9));
    expect(await t.store.getPrincipalSecretKey('bob')).toBeUndefined();
  });

  it('creates the service key once', async () => {
    const t = open();
    const first = await t.store.getOrCreateServiceKey(() => new Uint8Array(32).fill(1));
    const second = await (await t.reopen()).getOrCreateServiceKey(() => new Uint8Array(32).fill(2));
    expect(Array.from(second)).toEqual(Array.from(first));
  });

  it('runs a command through its states with an event per step, and enforces the expected state', async () => {
    const t = open();
    await t.store.addHost(hostInput('hv-01'), 1);
    const r = await t.store.apply([
      commandInsert('c1'),
      { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([0x52, 0]), messageKind: 'command_request', commandId: 'c1', atMs: 1000 },
    ]);
    expect(r.messageIds).toEqual([1]);
    await t.store.apply([{ kind: 'command.transition', id: 'c1', from: 'queued', to: 'sent', atMs: 1100, detail: 'on queue 1' }]);
    await expect(
      t.store.apply([{ kind: 'command.transition', id: 'c1', from: 'queued', to: 'sent', atMs: 1200, detail: 'again' }]),
    ).rejects.toBeInstanceOf(StoreConflictError);
    await t.store.apply([
      { kind: 'command.transition', id: 'c1', from: 'sent', to: 'awaiting_approval', atMs: 1300, detail: 'challenge', challenge: new Uint8Array([9]) },
      { kind: 'approval.insert', commandId: 'c1', approval: { principal: 'bob', keyId: 'k', signature: new Uint8Array(64), custodial: false, atMs: 1350 } },
    ]);
    const c = await t.store.getCommand('c1');
    expect(c?.state).toBe('awaiting_approval');
    expect(Array.from(c?.challenge ?? [])).toEqual([9]);
    expect(c?.events.map((e) => e.state)).toEqual(['queued', 'sent', 'awaiting_approval']);
    expect(c?.approvals.map((a) => a.principal)).toEqual(['bob']);
    expect((await t.store.listCommands({ states: ['awaiting_approval'] })).map((x) => x.id)).toEqual(['c1']);
  });

  it('rolls back the whole batch when one mutation fails', async () => {
    const t = open();
    await t.store.addHost(hostInput('hv-01'), 1);
    await expect(
      t.store.apply([
        { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'hello', atMs: 1 },
        { kind: 'command.transition', id: 'missing', from: 'queued', to: 'sent', atMs: 1, detail: '' },
      ]),
    ).rejects.toThrow(/no command missing/);
    expect(await t.store.listOutbox('hv-01')).toEqual([]);
    expect((await t.store.getHost('hv-01'))?.nextMessageId).toBe(1);
  });

  it('survives close and reopen: outbox, window, status, alerts, commands (durability)', async () => {
    const t = open();
    await t.store.addHost(hostInput('hv-01'), 1);
    await t.store.apply([
      commandInsert('c1'),
      { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'command_request', commandId: 'c1', atMs: 10 },
      { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([2]), messageKind: 'hello', atMs: 11 },
      { kind: 'outbox.sent', hostId: 'hv-01', messageId: 1, atMs: 12 },
      { kind: 'inbound.window', hostId: 'hv-01', window: { highest: 5, cumulative: 3, bitmap: new Uint8Array(128).fill(3), size: 1024 }, atMs: 13 },
      { kind: 'status.upsert', status: { hostId: 'hv-01', report: new Uint8Array([4]), reportSeq: 2, timeMs: 500, receivedAtMs: 501 } },
      { kind: 'status.upsert', status: { hostId: 'hv-01', report: new Uint8Array([3]), reportSeq: 1, timeMs: 400, receivedAtMs: 502 } },
      { kind: 'host.epochs', hostId: 'hv-01', q1Epoch: 77, q2Epoch: 88 },
      {
        kind: 'alert.insert',
        alert: {
          alertId: 'a1', hostId: 'hv-01', kind: 'action_not_permitted', principal: 'mallory', action: 'destroy', domain: 'db-1',
          reason: 'not in policy', timeMs: 600, requestId: 'c9', signatureStatus: 'verified', receivedAtMs: 601, raw: new Uint8Array([5]),
        },
      },
    ]);
    const s = await t.reopen();
    expect((await s.listOutbox('hv-01')).map((e) => [e.messageId, e.kind, e.sendCount])).toEqual([
      [1, 'command_request', 1],
      [2, 'hello', 0],
    ]);
    expect(await s.getInboundWindow('hv-01')).toMatchObject({ highest: 5, cumulative: 3, size: 1024 });
    expect((await s.getStatus('hv-01'))?.reportSeq).toBe(2);
    expect(await s.getHost('hv-01')).toMatchObject({ q1Epoch: 77, q2Epoch: 88, nextMessageId: 3 });
    expect((await s.getCommand('c1'))?.state).toBe('queued');
    await s.apply([{ kind: 'outbox.ack', hostId: 'hv-01', messageIds: [1] }]);
    expect((await s.listOutbox('hv-01')).map((e) => e.messageId)).toEqual([2]);
    const alerts = await s.listAlerts({ hostId: 'hv-01', acknowledged: false });
    expect(alerts).toHaveLength(1);
    expect(await s.listAlerts({ kind: 'replay' })).toEqual([]);
    expect(await s.listAlerts({ principal: 'mallory', sinceMs: 600 })).toHaveLength(1);
    expect(await s.listAlerts({ sinceMs: 602 })).toHaveLength(0);
    const acked = await s.ackAlert(alerts[0]!.id, 'sec-team', 700);
    expect(acked).toMatchObject({ acknowledged: true, acknowledgedBy: 'sec-team', acknowledgedAtMs: 700 });
    expect(await s.listAlerts({ acknowledged: false })).toEqual([]);
  });

  it('closes the unfinished commands of a removed host as failed', async () => {
    const t = open();
    await t.store.addHost(hostInput('hv-01'), 1);
    await t.store.apply([commandInsert('c1'), commandInsert('c2')]);
    await t.store.apply([{ kind: 'command.transition', id: 'c2', from: 'queued', to: 'applied', atMs: 5, detail: 'done' }]);
    expect(await t.store.removeHost('hv-01', 9)).toBe(true);
    const c1 = await t.store.getCommand('c1');
    expect(c1?.state).toBe('failed');
    expect(c1?.events.at(-1)?.detail).toContain('removed');
    expect((await t.store.getCommand('c2'))?.state).toBe('applied');
  });

  it('stores an alert delivered twice only once', async () => {
    const t = open();
    await t.store.addHost(hostInput('hv-01'), 1);
    const alert = {
      alertId: 'a1', hostId: 'hv-01', kind: 'replay', principal: '', action: 'unspecified', domain: '', reason: 'r', timeMs: 1,
      requestId: '', signatureStatus: 'unverified' as const, receivedAtMs: 2, raw: new Uint8Array([1]),
    };
    expect((await t.store.apply([{ kind: 'alert.insert', alert }])).alertsInserted).toBe(1);
    expect((await t.store.apply([{ kind: 'alert.insert', alert }])).alertsInserted).toBe(0);
    expect(await t.store.listAlerts({})).toHaveLength(1);
  });
});
