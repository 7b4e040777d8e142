/**
 * What every replica hears from the others through PostgreSQL
 * LISTEN/NOTIFY (real server): a command's state change, after commit
 * only, and published link health. With these a replica without the
 * host's link answers ?wait and GET /v1/hosts as the owner does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '@backchannel/proto';
import { hasPostgres, type PostgresServer, startPostgres } from '../../../test/src/harness/postgres.js';
import { CommandService } from '../../src/commands/command-service.js';
import { SharedLinkHealth, encodeHealthNotice, LINK_HEALTH_CHANNEL } from '../../src/replicas/shared-link-health.js';
import { COMMAND_CHANNEL } from '../../src/store/postgres-apply.js';
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

describe.skipIf(!hasPostgres())('replica notifications on PostgreSQL (skipped when no PostgreSQL server binaries are installed)', () => {
  it("a long-poll at one replica wakes on another replica's committed transition, not at its recheck", async () => {
    const url = await server!.createDatabase();
    const key = rng(32);
    const [a, b] = await Promise.all([PostgresStore.open({ url, secrets: new SecretBox(key, rng) }), PostgresStore.open({ url, secrets: new SecretBox(key, rng) })]);
    try {
      await a.addHost(hostInput('hv-01'), 1);
      await a.addPrincipal({ name: 'alice', publicKey: 'ed25519:' + Buffer.alloc(32).toString('base64') }, 1);
      const atA = new CommandService({ store: a, clock: Date.now, randomBytes: rng, serviceKey: generateSigningKeyPair(rng) });
      const atB = new CommandService({ store: b, clock: Date.now, randomBytes: rng });
      const heard: string[] = [];
      const listener = await b.listen({ [COMMAND_CHANNEL]: (id) => (heard.push(id), atB.notifyCommand(id)) });
      try {
        const c = await atA.issue({ principal: 'alice', hostId: 'hv-01', domain: 'web-1', action: 'start' });
        // B waits with a recheck far beyond the test's timeout: only the notification can end it in time.
        const waiting = atB.waitSettled(c.id, 20_000, 600_000);
        await a.apply([{ kind: 'command.transition', id: c.id, from: 'queued', to: 'sent', atMs: 2, detail: 'put' }]);
        await a.apply([{ kind: 'command.event', id: c.id, atMs: 3, event: 'note', detail: 'no state change: no notification' }]);
        await a.apply([{ kind: 'command.transition', id: c.id, from: 'sent', to: 'failed', atMs: 4, detail: 'as the host said' }]);
        expect((await waiting).state).toBe('failed');
        expect(heard).toEqual([c.id, c.id]);
        // A transition that fails (wrong expected state) is rolled back and notifies nobody.
        await expect(a.apply([{ kind: 'command.transition', id: c.id, from: 'sent', to: 'applied', atMs: 5, detail: '' }])).rejects.toThrow();
        await new Promise((r) => setTimeout(r, 200));
        expect(heard).toHaveLength(2);
      } finally {
        await listener.close();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 30_000);

  it('link health published by the owner reaches the other replicas', async () => {
    const url = await server!.createDatabase();
    const key = rng(32);
    const [a, b] = await Promise.all([PostgresStore.open({ url, secrets: new SecretBox(key, rng) }), PostgresStore.open({ url, secrets: new SecretBox(key, rng) })]);
    const shared = new SharedLinkHealth(Date.now);
    const listener = await b.listen({ [LINK_HEALTH_CHANNEL]: (p) => shared.accept(p) });
    try {
      await a.notify(LINK_HEALTH_CHANNEL, encodeHealthNotice({ host: 'hv-01', owner: 'A', health: { state: 'up', since: 1, lastError: null, unacked: 0, lastReceiveAtMs: 2 } })!);
      for (let i = 0; i < 200 && !shared.get('hv-01'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(shared.get('hv-01')).toMatchObject({ state: 'up', since: 1 });
      expect(shared.owner('hv-01')).toBe('A');
    } finally {
      await listener.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
