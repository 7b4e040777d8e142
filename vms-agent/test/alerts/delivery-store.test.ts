/**
 * The DeliveryStore contract on SQLite and on a real PostgreSQL server
 * (skipped without its binaries): the trigger fills the outbox, sinks copy
 * from their cursor, claims keep two senders (two replicas) apart, outcomes
 * move deliveries to delivered / pending-with-back-off / dead, redelivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPostgres, type PostgresServer, startPostgres } from '../../../test/src/harness/postgres.js';
import type { DeliveryStore } from '../../src/alerts/delivery-store.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { SecretBox } from '../../src/store/secret-box.js';
import type { AlertInput, Store } from '../../src/store/store.js';
import { hostInput, rng, tempStore } from '../helpers/temp-store.js';

const alert = (id: string, at: number): AlertInput => ({
  alertId: id, hostId: 'hv-01', kind: 'replay', principal: '', action: '', domain: '', reason: 'r', timeMs: at, requestId: '', signatureStatus: 'verified', receivedAtMs: at, raw: new Uint8Array([1]),
});

interface Opened {
  store: Store & { deliveries(): DeliveryStore };
  second?: () => Promise<Store & { deliveries(): DeliveryStore }>;
  close(): Promise<void>;
}

function contract(name: string, open: () => Promise<Opened>): void {
  describe(`DeliveryStore on ${name}`, () => {
    it('queues, claims, records, dead-letters and redelivers', async () => {
      const o = await open();
      try {
        const { store } = o;
        await store.addHost(hostInput('hv-01'), 1);
        const d = store.deliveries();
        await d.sync(['a'], 1);
        await store.apply([{ kind: 'alert.insert', alert: alert('x1', 10) }, { kind: 'alert.insert', alert: alert('x2', 11) }]);
        await store.apply([{ kind: 'alert.insert', alert: alert('x1', 12) }]); // duplicate: no second outbox entry
        await d.sync(['a'], 20);
        const due = await d.claimDue('a', 100, 10_000, 10);
        expect(due.map((x) => [x.seq, x.attempts, x.alert.alertId])).toEqual([[1, 0, 'x1'], [2, 0, 'x2']]);
        expect(await d.claimDue('a', 100, 10_000, 10)).toEqual([]); // claimed
        await d.record('a', [{ seq: 1, attempts: 1, ok: true }, { seq: 2, attempts: 1, ok: false, error: 'refused', dead: false, nextAttemptAtMs: 1100 }], 100);
        expect(await d.nextDueAtMs('a')).toBe(1100);
        expect(await d.claimDue('a', 1000, 10_000, 10)).toEqual([]);
        const again = await d.claimDue('a', 1100, 10_000, 10);
        expect(again.map((x) => [x.seq, x.attempts])).toEqual([[2, 1]]);
        await d.record('a', [{ seq: 2, attempts: 2, ok: false, error: 'refused again', dead: true, nextAttemptAtMs: 0 }], 1100);
        expect(await d.counts(['a'])).toEqual([{ sink: 'a', pending: 0, delivered: 1, dead: 1, oldestPendingAtMs: null, lastDeliveredAtMs: 100, lastError: 'refused again', lastErrorAtMs: 1100 }]);
        expect((await d.list({ state: 'dead' })).map((e) => [e.sink, e.seq, e.attempts, e.lastError, e.kind])).toEqual([['a', 2, 2, 'refused again', 'replay']]);
        expect(await d.redeliver('a', 2, 2000)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAtMs: 2000 });
        expect((await d.claimDue('a', 2000, 10_000, 10)).map((x) => x.seq)).toEqual([2]);
        expect(await d.redeliver('a', 1, 2000)).toMatchObject({ state: 'delivered' }); // never sent again once delivered
        expect(await d.redeliver('a', 99, 2000)).toBeUndefined();
        // A sink added later starts at the end of the outbox.
        await d.sync(['a', 'late'], 3000);
        expect((await d.counts(['late']))[0]).toMatchObject({ pending: 0, delivered: 0, dead: 0 });
        await store.apply([{ kind: 'alert.insert', alert: alert('x3', 3100) }]);
        await d.sync(['a', 'late'], 3200);
        expect((await d.claimDue('late', 3200, 10_000, 10)).map((x) => x.alert.alertId)).toEqual(['x3']);
        if (o.second) {
          // Two replicas claiming at once never get the same delivery.
          const other = (await o.second()).deliveries();
          for (let i = 0; i < 10; i++) await store.apply([{ kind: 'alert.insert', alert: alert(`y${i}`, 4000 + i) }]);
          await Promise.all([d.sync(['a'], 5000), other.sync(['a'], 5000)]);
          const [p, q] = await Promise.all([d.claimDue('a', 5000, 60_000, 6), other.claimDue('a', 5000, 60_000, 6)]);
          const seqs = [...p, ...q].map((x) => x.seq);
          expect(new Set(seqs).size).toBe(seqs.length);
          expect(seqs.length).toBe(11); // x3 and y0..y9
        }
      } finally {
        await o.close();
      }
    });
  });
}

contract('SQLite', async () => {
  const t = tempStore();
  return { store: t.store, close: () => t.cleanup() };
});

let server: PostgresServer | undefined;
beforeAll(async () => {
  if (hasPostgres()) server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe.skipIf(!hasPostgres())('PostgreSQL (skipped without its binaries)', () => {
  contract('PostgreSQL', async () => {
    const url = await server!.createDatabase();
    const key = rng(32);
    const open = () => PostgresStore.open({ url, secrets: new SecretBox(key, rng), maxConnections: 4 });
    const stores = [await open()];
    return {
      store: stores[0]!,
      second: async () => {
        const s = await open();
        stores.push(s);
        return s;
      },
      close: async () => {
        await Promise.all(stores.map((s) => s.close()));
      },
    };
  });
});
