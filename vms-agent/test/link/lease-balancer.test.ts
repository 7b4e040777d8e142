/**
 * Balanced link leases with a heartbeat, in-process with a fake clock:
 * the pure plan, then several LeaseKeepers on one in-memory lease table
 * (the PostgreSQL statements' rules) through start, join, graceful leave,
 * crash and a frozen replica, checking shares, churn and that no two
 * replicas ever vouch for the same host at once.
 */
import { describe, expect, it } from 'vitest';
import { planBalance, shareOf } from '../../src/link/lease-balancer.js';
import { LeaseKeeper } from '../../src/link/lease-keeper.js';
import { MemoryLinkLeases } from '../helpers/memory-leases.js';

describe('planBalance', () => {
  it('takes up to ceil(hosts / live) and sheds the excess, last first', () => {
    expect(shareOf(20, 3)).toBe(7);
    expect(shareOf(0, 3)).toBe(0);
    expect(shareOf(5, 0)).toBe(5);
    expect(planBalance({ hosts: 20, live: 1, held: [] })).toEqual({ share: 20, take: 20, shed: [] });
    expect(planBalance({ hosts: 20, live: 3, held: ['a', 'b'] })).toEqual({ share: 7, take: 5, shed: [] });
    expect(planBalance({ hosts: 4, live: 2, held: ['a', 'b', 'c', 'd'] })).toEqual({ share: 2, take: 0, shed: ['c', 'd'] });
    expect(planBalance({ hosts: 20, live: 3, held: Array.from({ length: 7 }, (_, i) => `h${i}`) })).toEqual({ share: 7, take: 0, shed: [] });
  });
});

const TTL = 3_000;

/** A fleet of keepers on one lease table and one fake clock; `beat` runs one heartbeat of each live replica, with hand-over as LinkManager does it. */
function fleet(hosts: number) {
  let now = 1_000_000;
  const table = new MemoryLinkLeases(() => now);
  for (let i = 0; i < hosts; i++) table.hosts.add(`hv-${String(i).padStart(2, '0')}`);
  const keepers = new Map<string, LeaseKeeper>();
  const frozen = new Set<string>();
  const add = (name: string) => keepers.set(name, new LeaseKeeper({ leases: table, owner: name, ttlMs: TTL, clock: () => now }));
  const beat = async () => {
    for (const [name, k] of keepers) {
      if (frozen.has(name)) continue;
      const r = await k.heartbeat();
      if (r.shed.length) await k.release(r.shed);
    }
    assertNoOverlap();
  };
  const advance = async (ms: number) => {
    // The clock moves in heartbeat steps; after each, nobody may vouch for a host another holds.
    for (let t = 0; t < ms; t += 1_000) {
      now += Math.min(1_000, ms - t);
      await beat();
    }
  };
  const shares = () => {
    const counts = new Map<string, number>();
    for (const owner of table.holders().values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return [...keepers.keys()].filter((n) => !frozen.has(n)).map((n) => counts.get(n) ?? 0);
  };
  const assertNoOverlap = () => {
    for (const h of table.hosts) {
      const vouching = [...keepers].filter(([, k]) => k.holds(h)).map(([n]) => n);
      expect(vouching.length, `${h} vouched for by ${vouching.join(', ')}`).toBeLessThanOrEqual(1);
    }
  };
  return { table, keepers, frozen, add, beat, advance, shares, get now() { return now; }, set now(v: number) { now = v; } };
}

describe('LeaseKeeper heartbeat on a shared lease table (fake clock)', () => {
  it('heartbeat every ttl/3, fence at 2/3 ttl; a first heartbeat only registers', async () => {
    const f = fleet(4);
    f.add('A');
    const a = f.keepers.get('A')!;
    expect([a.renewEveryMs, a.fenceMs]).toEqual([1_000, 2_000]);
    expect((await a.heartbeat()).held.size).toBe(0);
    const r = await a.heartbeat();
    expect([...r.held]).toEqual([['hv-00', 1], ['hv-01', 1], ['hv-02', 1], ['hv-03', 1]]);
    expect(a.generation('hv-02')).toBe(1);
    f.now += 1_999;
    expect(a.holds('hv-00')).toBe(true);
    f.now += 1;
    expect(a.holds('hv-00')).toBe(false); // no heartbeat for 2/3 of the lease: stops vouching, while the table still says A
    expect(f.table.holders().get('hv-00')).toBe('A');
  });

  it('3 replicas started together split 20 hosts 7/7/6; a 4th joining gets its share by hand-over with bounded churn; a graceful leave and a crash spread the rest', async () => {
    const f = fleet(20);
    for (const n of ['A', 'B', 'C']) f.add(n);
    await f.beat(); // registration
    await f.beat();
    expect(f.shares().sort()).toEqual([6, 7, 7]);
    expect(f.table.moves).toBe(20); // every host taken once, none moved twice
    await f.advance(5_000);
    expect(f.table.moves).toBe(20); // stable: no churn while nothing changes

    f.add('D');
    await f.beat(); // D registers; A, B, C see 4 live and hand over their excess
    await f.beat(); // D takes what was released
    expect(f.shares().sort()).toEqual([5, 5, 5, 5]);
    expect(f.table.moves - 20).toBe(5); // exactly the 5 hosts D needed moved
    expect(f.table.releases).toBe(5);

    // Graceful leave: its leases are released and it leaves the live set at once.
    await f.keepers.get('D')!.releaseAll();
    f.keepers.delete('D');
    await f.beat();
    expect(f.shares().sort()).toEqual([6, 7, 7]);

    // Crash of C: nothing is released; after the lease expires the others take its hosts.
    const cHosts = [...f.table.holders()].filter(([, o]) => o === 'C').map(([h]) => h);
    const cGeneration = new Map(cHosts.map((h) => [h, f.keepers.get('C')!.generation(h)!]));
    f.frozen.add('C');
    await f.advance(2_000);
    expect([...f.table.holders()].filter(([, o]) => o === 'C')).toHaveLength(cHosts.length); // still C's in the table
    await f.advance(2_000);
    expect(f.shares().sort()).toEqual([10, 10]);
    // Each taken over under a newer generation: C's old one is fenced at the BMC.
    for (const h of cHosts) expect(f.keepers.get('A')!.generation(h) ?? f.keepers.get('B')!.generation(h)).toBe(cGeneration.get(h)! + 1);
  });

  it('a frozen replica that comes back does not drive what was taken over, and rejoins for its share', async () => {
    const f = fleet(6);
    for (const n of ['A', 'B']) f.add(n);
    await f.beat();
    await f.beat();
    expect(f.shares()).toEqual([3, 3]);
    const a = f.keepers.get('A')!;
    const aHosts = [...f.table.holders()].filter(([, o]) => o === 'A').map(([h]) => h);
    f.frozen.add('A'); // SIGSTOP
    await f.advance(4_000);
    expect(f.shares()).toEqual([6]); // only B is counted: A's heartbeat expired
    for (const h of aHosts) expect(a.holds(h)).toBe(false);
    f.frozen.delete('A'); // SIGCONT
    await f.beat(); // A renews nothing (B owns its old hosts), re-registers, B sheds to A's share next
    await f.beat();
    expect(f.shares().sort()).toEqual([3, 3]);
    for (const h of aHosts) if (a.holds(h)) expect(a.generation(h)).toBeGreaterThanOrEqual(3);
  });
});
