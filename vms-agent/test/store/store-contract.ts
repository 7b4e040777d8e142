/**
 * What every Store implementation must do, as one suite run against each
 * (sqlite-store.test.ts, postgres-store.test.ts): the same calls give the
 * same records, errors and atomicity, and survive close and reopen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROLES } from '../../src/roles.js';
import { SecretBoxError } from '../../src/store/secret-box.js';
import { type AlertInput, type Store, StoreConflictError, StoreNotFoundError } from '../../src/store/store.js';
import { hostInput, rng } from '../helpers/temp-store.js';

export interface StoreUnderTest {
  /** The open store (a new object after reopen). */
  readonly store: Store;
  /** Closes the store and opens the same data again. */
  reopen(): Promise<Store>;
  /** Opens the same data with another master key (the caller closes it). */
  openWithKey(masterKey: Uint8Array): Promise<Store>;
  /** Whether `needle` appears anywhere in what the store keeps on disk. */
  containsAtRest(needle: Buffer): Promise<boolean>;
  migrationsApplied(): Promise<number[]>;
  cleanup(): Promise<void>;
}

export const commandInsert = (id: string, hostId = 'hv-01', createdAtMs = 1000) => ({
  kind: 'command.insert' as const,
  command: { id, hostId, domain: 'db-1', action: 'start', params: { reason: 'test' }, principal: 'alice', request: new Uint8Array([1, 2, 3]), createdAtMs },
  detail: 'issued by alice',
});

export const alertInput = (alertId: string, overrides: Partial<AlertInput> = {}): AlertInput => ({
  alertId,
  hostId: 'hv-01',
  kind: 'action_not_permitted',
  principal: 'mallory',
  action: 'destroy',
  domain: 'db-1',
  reason: 'not in policy',
  timeMs: 600,
  requestId: 'c9',
  signatureStatus: 'verified',
  receivedAtMs: 601,
  raw: new Uint8Array([5]),
  ...overrides,
});

export function storeContract(name: string, open: () => Promise<StoreUnderTest>, expected: { migrations: number[] }): void {
  describe(`${name} (Store contract)`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      while (cleanups.length) await cleanups.pop()?.();
    });
    async function fresh(): Promise<StoreUnderTest> {
      const t = await open();
      cleanups.push(() => t.cleanup());
      return t;
    }

    it('applies the migrations once and records them', async () => {
      const t = await fresh();
      expect(await t.migrationsApplied()).toEqual(expected.migrations);
      await t.reopen();
      expect(await t.migrationsApplied()).toEqual(expected.migrations);
    });

    it('keeps hosts, with BMC password and seed encrypted at rest', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01', { hostPublicKey: 'ed25519:abc', policyInfo: 'ops policy v3', bmcPassword: 'pw-6f1d7a0c-at-rest' }), 1234);
      await expect(t.store.addHost(hostInput('hv-01'), 1)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await t.containsAtRest(Buffer.from('pw-6f1d7a0c-at-rest'))).toBe(false);
      expect(await t.containsAtRest(Buffer.from('ops policy v3'))).toBe(true); // the check does see what is stored in clear
      const host = await t.store.getHost('hv-01');
      expect(host).toEqual({
        id: 'hv-01', bmcAddress: '127.0.0.1', bmcPort: 9623, bmcUser: 'oper', bmcPrivilege: 'operator', cipherSuites: [17, 3], iana: 32473,
        hostPublicKey: 'ed25519:abc', policyInfo: 'ops policy v3', q1Epoch: 0, q2Epoch: 0, nextMessageId: 1, createdAtMs: 1234,
      });
      const secrets = await t.store.getHostSecrets('hv-01');
      expect(secrets?.bmcPassword).toBe('pw-6f1d7a0c-at-rest');
      expect(Array.from(secrets?.seed ?? [])).toEqual(new Array(32).fill(7));
      expect(await t.store.getHost('nope')).toBeUndefined();
      expect(await t.store.getHostSecrets('nope')).toBeUndefined();
      await t.store.setHostPublicKey('hv-01', 'ed25519:def');
      expect((await t.store.getHost('hv-01'))?.hostPublicKey).toBe('ed25519:def');
      await expect(t.store.setHostPublicKey('nope', 'ed25519:x')).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
      await t.store.addHost(hostInput('HV-00', { bmcPrivilege: 'administrator' }), 1);
      expect((await t.store.listHosts()).map((h) => [h.id, h.bmcPrivilege, 'hostPublicKey' in h])).toEqual([
        ['HV-00', 'administrator', false],
        ['hv-01', 'operator', true],
      ]);
      expect(await t.store.removeHost('hv-01')).toBe(true);
      expect(await t.store.removeHost('hv-01')).toBe(false);
      expect((await t.store.listHosts()).map((h) => h.id)).toEqual(['HV-00']);
    });

    it('refuses to open secrets with another master key', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      await t.store.addPrincipal({ name: 'alice', publicKey: 'ed25519:A', secretKey: new Uint8Array(32).fill(9) }, 5);
      const other = await t.openWithKey(rng(32));
      try {
        await expect(other.getHostSecrets('hv-01')).rejects.toBeInstanceOf(SecretBoxError);
        await expect(other.getPrincipalSecretKey('alice')).rejects.toBeInstanceOf(SecretBoxError);
        expect((await other.getHost('hv-01'))?.id).toBe('hv-01'); // what is not secret still reads
      } finally {
        await other.close();
      }
    });

    it('keeps principals with their roles, and custodial keys encrypted', async () => {
      const t = await fresh();
      await t.store.addPrincipal({ name: 'alice', publicKey: 'ed25519:A', secretKey: new Uint8Array(32).fill(9) }, 5);
      await t.store.addPrincipal({ name: 'bob', publicKey: 'ed25519:B', roles: ['viewer', 'security', 'viewer'] }, 6);
      await expect(t.store.addPrincipal({ name: 'bob', publicKey: 'ed25519:C' }, 6)).rejects.toBeInstanceOf(StoreConflictError);
      expect(await t.store.listPrincipals()).toEqual([
        { name: 'alice', publicKey: 'ed25519:A', custodial: true, createdAtMs: 5, roles: [...DEFAULT_ROLES] },
        { name: 'bob', publicKey: 'ed25519:B', custodial: false, createdAtMs: 6, roles: ['security', 'viewer'] },
      ]);
      expect(await t.store.getPrincipal('bob')).toEqual({ name: 'bob', publicKey: 'ed25519:B', custodial: false, createdAtMs: 6, roles: ['security', 'viewer'] });
      expect(await t.store.getPrincipal('carol')).toBeUndefined();
      expect(Array.from((await t.store.getPrincipalSecretKey('alice')) ?? [])).toEqual(new Array(32).fill(9));
      expect(await t.store.getPrincipalSecretKey('bob')).toBeUndefined();
      expect(await t.store.getPrincipalSecretKey('carol')).toBeUndefined();
      expect(await t.containsAtRest(Buffer.alloc(32, 9))).toBe(false);

      await t.store.setPrincipalRoles('alice', ['viewer', 'operator']);
      expect((await t.store.getPrincipal('alice'))?.roles).toEqual(['operator', 'viewer']);
      await t.store.setPrincipalRoles('alice', []);
      expect((await t.store.getPrincipal('alice'))?.roles).toEqual([]);
      await expect(t.store.setPrincipalRoles('carol', ['viewer'])).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
      await t.store.addPrincipal({ name: 'nobody-yet', publicKey: 'ed25519:N', roles: [] }, 7);
      expect(await (await t.reopen()).getPrincipal('nobody-yet')).toMatchObject({ roles: [] });
    });

    it('maps token hashes to principals and roles; lists, expires and revokes tokens; removing a principal takes its tokens', async () => {
      const t = await fresh();
      const h1 = 'a1'.repeat(32);
      const h2 = 'b2'.repeat(32);
      await t.store.addPrincipal({ name: 'alice', publicKey: 'ed25519:A' }, 5);
      await t.store.addPrincipal({ name: 'sec', publicKey: 'ed25519:S', roles: ['security'] }, 5);
      expect(await t.store.addToken({ hash: h1, principal: 'alice', label: 'ci' }, 7)).toEqual({ id: 'a1'.repeat(8), principal: 'alice', label: 'ci', createdAtMs: 7 });
      await t.store.addToken({ hash: h2, principal: 'sec', label: '', expiresAtMs: 1000 }, 8);
      await expect(t.store.addToken({ hash: 'c3'.repeat(32), principal: 'nobody', label: 'x' }, 7)).rejects.toThrow(/no principal/);
      await expect(t.store.addToken({ hash: 'c3'.repeat(32), principal: 'nobody', label: 'x' }, 7)).rejects.toBeInstanceOf(StoreNotFoundError);
      expect(await t.store.getToken(h1)).toEqual({ id: 'a1'.repeat(8), principal: 'alice', label: 'ci', createdAtMs: 7, roles: [...DEFAULT_ROLES] });
      expect(await t.store.getToken(h2)).toEqual({ id: 'b2'.repeat(8), principal: 'sec', label: '', createdAtMs: 8, expiresAtMs: 1000, roles: ['security'] });
      expect(await t.store.getToken('nope')).toBeUndefined();
      // Roles are read at each lookup: a change takes effect on the next request.
      await t.store.setPrincipalRoles('alice', ['viewer']);
      expect((await t.store.getToken(h1))?.roles).toEqual(['viewer']);

      expect((await t.store.listTokens()).map((x) => x.id)).toEqual(['a1'.repeat(8), 'b2'.repeat(8)]);
      expect((await t.store.listTokens({ principal: 'sec' })).map((x) => x.id)).toEqual(['b2'.repeat(8)]);
      expect(await t.store.revokeToken('a1'.repeat(8), 50)).toMatchObject({ id: 'a1'.repeat(8), revokedAtMs: 50 });
      expect(await t.store.revokeToken('a1'.repeat(8), 60)).toMatchObject({ revokedAtMs: 50 }); // the first revocation stands
      expect(await t.store.revokeToken('ffffffffffffffff', 60)).toBeUndefined();
      expect(await (await t.reopen()).getToken(h1)).toMatchObject({ principal: 'alice', revokedAtMs: 50 });

      expect(await t.store.removePrincipal('sec')).toBe(true);
      expect(await t.store.removePrincipal('sec')).toBe(false);
      expect(await t.store.getToken(h2)).toBeUndefined();
      expect((await t.store.listTokens()).map((x) => x.principal)).toEqual(['alice']);
      // The name can be used again, with nothing of the old principal attached.
      await t.store.addPrincipal({ name: 'sec', publicKey: 'ed25519:S2', roles: ['viewer'] }, 9);
      expect(await t.store.listTokens({ principal: 'sec' })).toEqual([]);
    });

    it('creates the service key once', async () => {
      const t = await fresh();
      const first = await t.store.getOrCreateServiceKey(() => new Uint8Array(32).fill(1));
      const second = await (await t.reopen()).getOrCreateServiceKey(() => new Uint8Array(32).fill(2));
      expect(Array.from(first)).toEqual(new Array(32).fill(1));
      expect(Array.from(second)).toEqual(Array.from(first));
      expect(await t.containsAtRest(Buffer.alloc(32, 1))).toBe(false);
    });

    it('runs a command through its states with an event per step, and enforces the expected state', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      const r = await t.store.apply([
        commandInsert('c1'),
        { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([0x52, 0]), messageKind: 'command_request', commandId: 'c1', atMs: 1000 },
      ]);
      expect(r).toEqual({ messageIds: [1], alertsInserted: 0 });
      await t.store.apply([{ kind: 'command.transition', id: 'c1', from: 'queued', to: 'sent', atMs: 1100, detail: 'on queue 1' }]);
      await expect(t.store.apply([{ kind: 'command.transition', id: 'c1', from: 'queued', to: 'sent', atMs: 1200, detail: 'again' }])).rejects.toBeInstanceOf(StoreConflictError);
      await t.store.apply([
        { kind: 'command.transition', id: 'c1', from: ['queued', 'sent'], to: 'awaiting_approval', atMs: 1300, detail: 'challenge', challenge: new Uint8Array([9]) },
        { kind: 'approval.insert', commandId: 'c1', approval: { principal: 'bob', keyId: 'k', signature: new Uint8Array(64).fill(4), custodial: false, atMs: 1350 } },
        { kind: 'command.event', id: 'c1', atMs: 1360, event: 'approval', detail: 'approval by bob (1 of 2)' },
      ]);
      await expect(
        t.store.apply([{ kind: 'approval.insert', commandId: 'c1', approval: { principal: 'bob', keyId: 'k', signature: new Uint8Array(64), custodial: false, atMs: 1370 } }]),
      ).rejects.toBeInstanceOf(StoreConflictError);
      await t.store.apply([
        { kind: 'approval.insert', commandId: 'c1', approval: { principal: 'alice', keyId: 'k2', signature: new Uint8Array(64).fill(5), custodial: true, atMs: 1350 } },
        { kind: 'command.transition', id: 'c1', from: 'awaiting_approval', to: 'awaiting_approval', atMs: 1400, detail: 'response queued', responseSent: true },
      ]);
      const c = await t.store.getCommand('c1');
      expect(c).toMatchObject({ id: 'c1', hostId: 'hv-01', domain: 'db-1', action: 'start', params: { reason: 'test' }, principal: 'alice', state: 'awaiting_approval', responseSent: true, createdAtMs: 1000, updatedAtMs: 1400 });
      expect(Array.from(c?.request ?? [])).toEqual([1, 2, 3]);
      expect(Array.from(c?.challenge ?? [])).toEqual([9]);
      expect(c).not.toHaveProperty('result');
      expect(c?.events).toEqual([
        { atMs: 1000, kind: 'queued', state: 'queued', detail: 'issued by alice' },
        { atMs: 1100, kind: 'transition', state: 'sent', detail: 'on queue 1' },
        { atMs: 1300, kind: 'transition', state: 'awaiting_approval', detail: 'challenge' },
        { atMs: 1360, kind: 'approval', state: 'awaiting_approval', detail: 'approval by bob (1 of 2)' },
        { atMs: 1400, kind: 'update', state: 'awaiting_approval', detail: 'response queued' },
      ]);
      // Same time: by principal name.
      expect(c?.approvals.map((a) => [a.principal, a.keyId, a.custodial, a.atMs, a.signature[0]])).toEqual([
        ['alice', 'k2', true, 1350, 5],
        ['bob', 'k', false, 1350, 4],
      ]);
      await t.store.apply([{ kind: 'command.transition', id: 'c1', from: 'awaiting_approval', to: 'applied', atMs: 1500, detail: 'applied', result: new Uint8Array([7, 7]) }]);
      const done = await t.store.getCommand('c1');
      expect(done?.events.at(-1)).toEqual({ atMs: 1500, kind: 'final', state: 'applied', detail: 'applied' });
      expect(Array.from(done?.result ?? [])).toEqual([7, 7]);
      expect(Array.from(done?.challenge ?? [])).toEqual([9]); // kept when a later step brings none
      expect(done?.responseSent).toBe(true);
      expect(await t.store.getCommand('nope')).toBeUndefined();
      await expect(t.store.apply([{ kind: 'command.event', id: 'nope', atMs: 1, event: 'x', detail: '' }])).rejects.toMatchObject({ code: 'COMMAND_NOT_FOUND' });
    });

    it('lists commands by host and state, oldest first, with a limit', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      await t.store.addHost(hostInput('hv-02'), 1);
      await t.store.apply([commandInsert('b', 'hv-01', 20), commandInsert('a', 'hv-01', 20), commandInsert('C', 'hv-02', 10), commandInsert('d', 'hv-01', 5)]);
      await t.store.apply([{ kind: 'command.transition', id: 'd', from: 'queued', to: 'failed', atMs: 30, detail: 'x' }]);
      expect((await t.store.listCommands({})).map((c) => c.id)).toEqual(['d', 'C', 'a', 'b']);
      expect((await t.store.listCommands({ hostId: 'hv-01' })).map((c) => c.id)).toEqual(['d', 'a', 'b']);
      expect((await t.store.listCommands({ hostId: 'hv-01', states: ['queued'] })).map((c) => c.id)).toEqual(['a', 'b']);
      expect((await t.store.listCommands({ states: ['failed', 'queued'], limit: 2 })).map((c) => c.id)).toEqual(['d', 'C']);
      expect((await t.store.listCommands({ states: [] })).map((c) => c.id)).toEqual(['d', 'C', 'a', 'b']);
      expect(await t.store.listCommands({ hostId: 'hv-09' })).toEqual([]);
      expect((await t.store.listCommands({ principal: 'alice', hostId: 'hv-01' })).map((c) => c.id)).toEqual(['d', 'a', 'b']);
      expect(await t.store.listCommands({ principal: 'bob' })).toEqual([]);
    });

    it('keeps idempotency keys per principal with their command, refuses a second use in one batch, and forgets old ones', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      const rec = (principal: string, key: string, commandId: string, createdAtMs: number) => ({
        kind: 'idempotency.insert' as const,
        record: { principal, key, scope: 'issue', requestHash: 'ab'.repeat(32), commandId, status: 202, createdAtMs },
        expiredBeforeMs: createdAtMs - 1_000,
      });
      await t.store.apply([rec('alice', 'k1', 'c1', 5_000), commandInsert('c1')]);
      await t.store.apply([rec('bob', 'k1', 'c2', 5_000), commandInsert('c2')]); // another principal, same key
      expect(await t.store.getIdempotencyKey('alice', 'k1', 0)).toEqual({ principal: 'alice', key: 'k1', scope: 'issue', requestHash: 'ab'.repeat(32), commandId: 'c1', status: 202, createdAtMs: 5_000 });
      expect((await t.store.getIdempotencyKey('bob', 'k1', 0))?.commandId).toBe('c2');
      expect(await t.store.getIdempotencyKey('alice', 'k1', 5_001)).toBeUndefined(); // older than asked for
      // A second use within the retention fails the whole batch: no command c3.
      await expect(t.store.apply([rec('alice', 'k1', 'c3', 5_500), commandInsert('c3')])).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_TAKEN' });
      expect(await t.store.getCommand('c3')).toBeUndefined();
      // Past the retention the key may be used again.
      await t.store.apply([rec('alice', 'k1', 'c4', 7_000), commandInsert('c4')]);
      expect((await t.store.getIdempotencyKey('alice', 'k1', 0))?.commandId).toBe('c4');
      expect(await t.store.purgeIdempotencyKeys(6_000)).toBe(1); // bob's
      expect(await t.store.getIdempotencyKey('bob', 'k1', 0)).toBeUndefined();
    });

    it('rolls back the whole batch when one mutation fails', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      await expect(
        t.store.apply([
          { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'hello', atMs: 1 },
          { kind: 'command.transition', id: 'missing', from: 'queued', to: 'sent', atMs: 1, detail: '' },
        ]),
      ).rejects.toThrow(/no command missing/);
      expect(await t.store.listOutbox('hv-01')).toEqual([]);
      expect((await t.store.getHost('hv-01'))?.nextMessageId).toBe(1);
      await expect(t.store.apply([{ kind: 'message.allocate', hostId: 'hv-09' }])).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
      await expect(
        t.store.apply([commandInsert('c1'), { kind: 'outbox.enqueue', hostId: 'hv-09', body: new Uint8Array([1]), messageKind: 'command_request', commandId: 'c1', atMs: 1 }]),
      ).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
      expect(await t.store.getCommand('c1')).toBeUndefined();
    });

    it('takes message ids in order, for kept and bare-ack messages alike', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      await t.store.addHost(hostInput('hv-02'), 1);
      const r = await t.store.apply([
        { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'hello', atMs: 1 },
        { kind: 'message.allocate', hostId: 'hv-01' },
        { kind: 'outbox.enqueue', hostId: 'hv-02', body: new Uint8Array([2]), messageKind: 'hello', atMs: 2 },
        { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([3]), messageKind: 'resync', atMs: 3 },
      ]);
      expect(r.messageIds).toEqual([1, 2, 1, 3]);
      expect(await t.store.listOutbox('hv-01')).toEqual([
        { hostId: 'hv-01', messageId: 1, body: new Uint8Array([1]), kind: 'hello', createdAtMs: 1, lastSentAtMs: 0, sendCount: 0 },
        { hostId: 'hv-01', messageId: 3, body: new Uint8Array([3]), kind: 'resync', createdAtMs: 3, lastSentAtMs: 0, sendCount: 0 },
      ]);
      expect((await t.store.getHost('hv-01'))?.nextMessageId).toBe(4);
      await t.store.apply([{ kind: 'outbox.ack', hostId: 'hv-01', messageIds: [] }, { kind: 'outbox.ack', hostId: 'hv-01', messageIds: [1, 3, 99] }]);
      expect(await t.store.listOutbox('hv-01')).toEqual([]);
      expect((await t.store.listOutbox('hv-02')).map((e) => e.messageId)).toEqual([1]);
    });

    it('survives close and reopen: outbox, window, status, alerts, commands (durability)', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      expect(await t.store.getInboundWindow('hv-01')).toBeUndefined();
      expect(await t.store.getStatus('hv-01')).toBeUndefined();
      await t.store.apply([
        commandInsert('c1'),
        { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'command_request', commandId: 'c1', atMs: 10 },
        { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([2]), messageKind: 'hello', atMs: 11 },
        { kind: 'outbox.sent', hostId: 'hv-01', messageId: 1, atMs: 12 },
        { kind: 'inbound.window', hostId: 'hv-01', window: { highest: 5, cumulative: 3, bitmap: new Uint8Array(128).fill(3), size: 1024, peer: { offsetMs: 75_000, incarnations: [7, 281474976710655] } }, atMs: 13 },
        { kind: 'status.upsert', status: { hostId: 'hv-01', report: new Uint8Array([4]), reportSeq: 2, timeMs: 500, receivedAtMs: 501 } },
        { kind: 'status.upsert', status: { hostId: 'hv-01', report: new Uint8Array([3]), reportSeq: 1, timeMs: 400, receivedAtMs: 502 } },
        { kind: 'host.epochs', hostId: 'hv-01', q1Epoch: 77, q2Epoch: 88 },
        { kind: 'alert.insert', alert: alertInput('a1') },
      ]);
      const s = await t.reopen();
      expect((await s.listOutbox('hv-01')).map((e) => [e.messageId, e.kind, e.sendCount, e.lastSentAtMs, e.commandId])).toEqual([
        [1, 'command_request', 1, 12, 'c1'],
        [2, 'hello', 0, 0, undefined],
      ]);
      expect(await s.getInboundWindow('hv-01')).toEqual({ highest: 5, cumulative: 3, bitmap: new Uint8Array(128).fill(3), size: 1024, peer: { offsetMs: 75_000, incarnations: [7, 281474976710655] } });
      expect(await s.getStatus('hv-01')).toEqual({ hostId: 'hv-01', report: new Uint8Array([4]), reportSeq: 2, timeMs: 500, receivedAtMs: 501 });
      expect(await s.getHost('hv-01')).toMatchObject({ q1Epoch: 77, q2Epoch: 88, nextMessageId: 3 });
      await s.apply([
        { kind: 'host.epochs', hostId: 'hv-01', q2Epoch: 89 },
        { kind: 'inbound.window', hostId: 'hv-01', window: { highest: 9, cumulative: 9, bitmap: new Uint8Array(128), size: 1024 }, atMs: 14 },
        { kind: 'status.upsert', status: { hostId: 'hv-01', report: new Uint8Array([5]), reportSeq: 3, timeMs: 500, receivedAtMs: 503 } },
      ]);
      expect(await s.getHost('hv-01')).toMatchObject({ q1Epoch: 77, q2Epoch: 89 });
      expect((await s.getInboundWindow('hv-01'))?.highest).toBe(9);
      // The window written without a peer keeps what the channel learned of the host (link: migration 4 / PG 5).
      expect((await s.getInboundWindow('hv-01'))?.peer).toEqual({ offsetMs: 75_000, incarnations: [7, 281474976710655] });
      expect((await s.getStatus('hv-01'))?.reportSeq).toBe(3); // same time: the later one wins
      expect((await s.getCommand('c1'))?.state).toBe('queued');
      await s.apply([{ kind: 'outbox.ack', hostId: 'hv-01', messageIds: [1] }]);
      expect((await s.listOutbox('hv-01')).map((e) => e.messageId)).toEqual([2]);
      const alerts = await s.listAlerts({ hostId: 'hv-01', acknowledged: false });
      expect(alerts).toEqual([
        {
          id: alerts[0]!.id, alertId: 'a1', hostId: 'hv-01', kind: 'action_not_permitted', principal: 'mallory', action: 'destroy', domain: 'db-1',
          reason: 'not in policy', timeMs: 600, requestId: 'c9', signatureStatus: 'verified', receivedAtMs: 601, acknowledged: false,
        },
      ]);
      expect(await s.listAlerts({ kind: 'replay' })).toEqual([]);
      expect(await s.listAlerts({ principal: 'mallory', sinceMs: 601 })).toHaveLength(1);
      expect(await s.listAlerts({ sinceMs: 602 })).toHaveLength(0);
      expect(await s.getAlert(alerts[0]!.id)).toEqual(alerts[0]);
      expect(await s.getAlert(alerts[0]!.id + 1000)).toBeUndefined();
      const acked = await s.ackAlert(alerts[0]!.id, { by: 'sec-team', comment: 'known scanner, ticket 42' }, 700);
      expect(acked).toMatchObject({ acknowledged: true, acknowledgedBy: 'sec-team', acknowledgedAtMs: 700, acknowledgedComment: 'known scanner, ticket 42' });
      expect(await s.ackAlert(alerts[0]!.id, { by: 'someone-else', comment: 'again' }, 800)).toMatchObject({ acknowledgedBy: 'sec-team', acknowledgedAtMs: 700, acknowledgedComment: 'known scanner, ticket 42' });
      expect(await s.ackAlert(alerts[0]!.id + 1000, { by: 'x', comment: 'y' }, 1)).toBeUndefined();
      expect(await s.listAlerts({ acknowledged: false })).toEqual([]);
      expect(await s.listAlerts({ acknowledged: true })).toHaveLength(1);
    });

    it('applies a non-durable transaction like any other: atomic, visible at once, kept across close and reopen', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      await t.store.apply([commandInsert('c1'), { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'command_request', commandId: 'c1', atMs: 10 }]);
      await t.store.apply([{ kind: 'outbox.sent', hostId: 'hv-01', messageId: 1, atMs: 12 }], { durable: false });
      expect((await t.store.listOutbox('hv-01')).map((e) => [e.messageId, e.sendCount, e.lastSentAtMs])).toEqual([[1, 1, 12]]);
      // All or nothing, as a durable one: a conflicting command move rolls back the outbox write with it.
      await expect(
        t.store.apply(
          [
            { kind: 'outbox.sent', hostId: 'hv-01', messageId: 1, atMs: 20 },
            { kind: 'command.transition', id: 'c1', from: 'sent', to: 'challenged', atMs: 21, detail: 'x' },
          ],
          { durable: false },
        ),
      ).rejects.toBeInstanceOf(StoreConflictError);
      expect((await t.store.listOutbox('hv-01'))[0]?.lastSentAtMs).toBe(12);
      // A durable transaction after it (which syncs both) and a reopen keep it.
      await t.store.apply([{ kind: 'inbound.window', hostId: 'hv-01', window: { highest: 1, cumulative: 1, bitmap: new Uint8Array(128), size: 1024 }, atMs: 30 }]);
      const s = await t.reopen();
      expect((await s.listOutbox('hv-01')).map((e) => [e.messageId, e.sendCount, e.lastSentAtMs])).toEqual([[1, 1, 12]]);
    });

    it('lists alerts newest first, with a limit', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      for (const id of ['a1', 'a2', 'a3']) await t.store.apply([{ kind: 'alert.insert', alert: alertInput(id, { kind: id === 'a2' ? 'replay' : 'bad_signature' }) }]);
      expect((await t.store.listAlerts({})).map((a) => a.alertId)).toEqual(['a3', 'a2', 'a1']);
      expect((await t.store.listAlerts({ limit: 2 })).map((a) => a.alertId)).toEqual(['a3', 'a2']);
      expect((await t.store.listAlerts({ kind: 'bad_signature', limit: 1 })).map((a) => a.alertId)).toEqual(['a3']);
    });

    it('closes the unfinished commands of a removed host as failed', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      await t.store.apply([commandInsert('c1'), commandInsert('c2'), { kind: 'outbox.enqueue', hostId: 'hv-01', body: new Uint8Array([1]), messageKind: 'command_request', commandId: 'c1', atMs: 2 }]);
      await t.store.apply([{ kind: 'command.transition', id: 'c2', from: 'queued', to: 'applied', atMs: 5, detail: 'done' }]);
      expect(await t.store.removeHost('hv-01', 9)).toBe(true);
      const c1 = await t.store.getCommand('c1');
      expect(c1?.state).toBe('failed');
      expect(c1?.updatedAtMs).toBe(9);
      expect(c1?.events.at(-1)).toMatchObject({ atMs: 9, kind: 'final', state: 'failed' });
      expect(c1?.events.at(-1)?.detail).toContain('removed');
      expect((await t.store.getCommand('c2'))?.state).toBe('applied');
      expect(await t.store.listOutbox('hv-01')).toEqual([]);
    });

    it('stores an alert delivered twice only once', async () => {
      const t = await fresh();
      await t.store.addHost(hostInput('hv-01'), 1);
      const alert = alertInput('a1', { kind: 'replay', signatureStatus: 'unverified' });
      expect((await t.store.apply([{ kind: 'alert.insert', alert }])).alertsInserted).toBe(1);
      expect((await t.store.apply([{ kind: 'alert.insert', alert }, { kind: 'alert.insert', alert: alertInput('a2') }])).alertsInserted).toBe(1);
      expect(await t.store.listAlerts({})).toHaveLength(2);
    });
  });
}
