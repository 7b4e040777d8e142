/**
 * Balanced link leases on a real PostgreSQL server: replica heartbeats,
 * shares within ±1 of even after start, join, crash and leave, heartbeats
 * of several replicas running at the same moment (SKIP LOCKED: no waits,
 * no deadlocks, no host taken twice), generations growing at each
 * takeover, and the notification a release sends. The same logic runs
 * in-process with a fake clock in test/link/lease-balancer.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasPostgres, type PostgresServer, startPostgres } from '../../../test/src/harness/postgres.js';
import { LeaseKeeper } from '../../src/link/lease-keeper.js';
import { LEASES_CHANNEL } from '../../src/store/postgres-leases.js';
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

const open: PostgresStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function replicas(n: number, hosts: number): Promise<{ stores: PostgresStore[]; keepers: LeaseKeeper[] }> {
  const url = await server!.createDatabase();
  const key = rng(32);
  const stores = await Promise.all(Array.from({ length: n }, () => PostgresStore.open({ url, secrets: new SecretBox(key, rng), maxConnections: 3 })));
  open.push(...stores);
  for (let i = 0; i < hosts; i++) await stores[0]!.addHost(hostInput(`hv-${String(i).padStart(2, '0')}`), 1);
  const keepers = stores.map((s, i) => new LeaseKeeper({ leases: s, owner: String.fromCharCode(65 + i), ttlMs: 1_000, clock: () => Date.now() }));
  return { stores, keepers };
}

/** One heartbeat of each keeper at the same moment, with the hand-over LinkManager does. */
async function beat(keepers: LeaseKeeper[]): Promise<void> {
  await Promise.all(
    keepers.map(async (k) => {
      const r = await k.heartbeat();
      if (r.shed.length) await k.release(r.shed);
    }),
  );
}

async function shares(store: PostgresStore, owners: string[]): Promise<number[]> {
  const live = (await store.listLinkLeases()).filter((l) => l.expiresAtMs > Date.now());
  return owners.map((o) => live.filter((l) => l.owner === o).length);
}

describe.skipIf(!hasPostgres())('balanced link leases on PostgreSQL (skipped when no PostgreSQL server binaries are installed)', () => {
  it('3 replicas heartbeating together split 20 hosts 7/7/6, a 4th joining takes its share from the others, a crash and a leave spread theirs', async () => {
    const { stores, keepers } = await replicas(4, 20);
    const [a, b, c, d] = keepers as [LeaseKeeper, LeaseKeeper, LeaseKeeper, LeaseKeeper];
    await beat([a, b, c]); // registration only
    await beat([a, b, c]);
    await beat([a, b, c]);
    expect((await shares(stores[0]!, ['A', 'B', 'C'])).sort((x, y) => x - y)).toEqual([6, 7, 7]);
    const before = new Map((await stores[0]!.listLinkLeases()).map((l) => [l.hostId, l]));
    expect([...before.values()].every((l) => l.generation === 1)).toBe(true);

    await beat([a, b, c, d]); // D registers; the others hand over their excess (those that already see D)
    await beat([a, b, c, d]); // D takes it; the rest hand over
    await beat([a, b, c, d]);
    expect(await shares(stores[0]!, ['A', 'B', 'C', 'D'])).toEqual([5, 5, 5, 5]);
    const afterJoin = await stores[0]!.listLinkLeases();
    const moved = afterJoin.filter((l) => before.get(l.hostId)!.owner !== l.owner);
    expect(moved).toHaveLength(5); // bounded churn: only what D needed
    expect(moved.every((l) => l.owner === 'D' && l.generation === 2)).toBe(true);

    // D crashes (no release, no heartbeat): once its heartbeat and leases expire the others take over.
    const crashedAt = Date.now();
    while (Date.now() - crashedAt < 1_500) {
      await beat([a, b, c]);
      await new Promise((r) => setTimeout(r, 250));
    }
    await beat([a, b, c]);
    expect((await shares(stores[0]!, ['A', 'B', 'C'])).sort((x, y) => x - y)).toEqual([6, 7, 7]);
    expect((await stores[0]!.listLinkLeases()).filter((l) => moved.some((m) => m.hostId === l.hostId)).every((l) => l.generation === 3)).toBe(true);

    // C leaves gracefully: the others see two live replicas at once.
    await c.releaseAll();
    await beat([a, b]);
    await beat([a, b]);
    expect(await shares(stores[0]!, ['A', 'B'])).toEqual([10, 10]);
  }, 30_000);

  it('concurrent heartbeats never give one host to two replicas, and a release notifies the others', async () => {
    const { stores, keepers } = await replicas(3, 30);
    const heard: string[] = [];
    const listener = await stores[2]!.listen({ [LEASES_CHANNEL]: (p) => heard.push(p) });
    try {
      for (let round = 0; round < 5; round++) await beat(keepers);
      const leases = (await stores[0]!.listLinkLeases()).filter((l) => l.expiresAtMs > Date.now());
      expect(leases).toHaveLength(30);
      expect(new Set(leases.map((l) => l.hostId)).size).toBe(30);
      expect(await shares(stores[0]!, ['A', 'B', 'C'])).toEqual([10, 10, 10]);
      // Only the keeper holding a lease can release it.
      const mine = leases.find((l) => l.owner === 'A')!.hostId;
      await keepers[1]!.release([mine]);
      expect(heard).toEqual([]);
      await keepers[0]!.release([mine]);
      for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(heard).toEqual(['A']);
      expect(keepers[0]!.holds(mine)).toBe(false);
      await beat([keepers[1]!]); // B is at its share: it leaves the free lease alone
      expect((await stores[0]!.listLinkLeases()).find((l) => l.hostId === mine)!.expiresAtMs).toBeLessThanOrEqual(Date.now());
      await beat([keepers[0]!]); // A is below its share again and takes it back (nobody had it meanwhile: same generation)
      expect((await stores[0]!.listLinkLeases()).find((l) => l.hostId === mine)).toMatchObject({ owner: 'A', generation: 1 });
    } finally {
      await listener.close();
    }
  }, 30_000);
  it('a lease holder moves its generation past one the BMC remembers (host re-added, store restored); a replica that lost the lease cannot', async () => {
    const { stores, keepers } = await replicas(2, 2);
    for (let round = 0; round < 3; round++) await beat(keepers); // both registered: one host each
    const leases = (await stores[0]!.listLinkLeases()).filter((l) => l.expiresAtMs > Date.now());
    const a = leases.find((l) => l.owner === 'A')!;
    const b = leases.find((l) => l.owner === 'B')!;
    expect(a.generation).toBe(1);
    // The BMC says it has generation 7 for A's host: A still holds the lease, so nobody else claimed 7.
    expect(await keepers[0]!.raiseGeneration(a.hostId, 7)).toBe(8);
    expect((await stores[0]!.listLinkLeases()).find((l) => l.hostId === a.hostId)).toMatchObject({ owner: 'A', generation: 8 });
    // A refusal of B's host reaching A (fenced, not the holder) changes nothing.
    expect(await keepers[0]!.raiseGeneration(b.hostId, 7)).toBeUndefined();
    expect((await stores[0]!.listLinkLeases()).find((l) => l.hostId === b.hostId)).toMatchObject({ owner: 'B', generation: b.generation });
    // The next heartbeat hands A the new generation to claim.
    const held = await keepers[0]!.heartbeat();
    expect(held.held.get(a.hostId)).toBe(8);
  }, 30_000);
});
