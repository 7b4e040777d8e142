/**
 * LinkLeases in memory with an injected clock: the same rules as the
 * PostgreSQL statements (store/postgres-leases.ts), for testing the
 * balancing and fencing logic of several lease keepers deterministically,
 * without sleeping. The PostgreSQL implementation is tested against a real
 * server in test/store/postgres-leases.test.ts.
 */
import type { HeartbeatCounts, HeldLease, LinkLeaseRecord, LinkLeases } from '../../src/store/link-leases.js';

interface Lease {
  owner: string;
  generation: number;
  acquiredAtMs: number;
  expiresAtMs: number;
}

export class MemoryLinkLeases implements LinkLeases {
  readonly hosts = new Set<string>();
  readonly leases = new Map<string, Lease>();
  readonly replicas = new Map<string, number>();
  /** Every change of owner, for churn counts. */
  moves = 0;
  releases = 0;

  constructor(readonly now: () => number) {}

  async claimLinks(owner: string, hostIds: string[], ttlMs: number): Promise<string[]> {
    const out: string[] = [];
    for (const id of hostIds) {
      if (!this.hosts.has(id)) continue;
      if (this.#take(id, owner, ttlMs)) out.push(id);
    }
    return out.sort();
  }

  async heartbeatLinks(owner: string, ttlMs: number, decide: (counts: HeartbeatCounts) => number): Promise<HeldLease[]> {
    const now = this.now();
    const joined = !this.replicas.has(owner);
    this.replicas.set(owner, now + ttlMs);
    const held: string[] = [];
    for (const [id, l] of this.leases) {
      if (l.owner === owner && l.expiresAtMs > now) {
        l.expiresAtMs = now + ttlMs;
        held.push(id);
      }
    }
    const live = [...this.replicas.values()].filter((e) => e > now).length;
    let take = decide({ hosts: this.hosts.size, live, held: held.sort(), joined });
    for (const id of [...this.hosts].sort()) {
      if (take <= 0) break;
      const l = this.leases.get(id);
      if (l && l.expiresAtMs > now) continue;
      this.#take(id, owner, ttlMs);
      take--;
    }
    return [...this.leases]
      .filter(([, l]) => l.owner === owner && l.expiresAtMs > now)
      .map(([hostId, l]) => ({ hostId, generation: l.generation }))
      .sort((a, b) => (a.hostId < b.hostId ? -1 : 1));
  }

  async raiseGeneration(owner: string, hostId: string, bmcGeneration: number): Promise<number | undefined> {
    const l = this.leases.get(hostId);
    if (l === undefined || l.owner !== owner || l.expiresAtMs <= this.now()) return undefined;
    l.generation = Math.max(l.generation, bmcGeneration) + 1;
    return l.generation;
  }

  async releaseLinks(owner: string, hostIds: string[]): Promise<void> {
    const now = this.now();
    for (const id of hostIds) {
      const l = this.leases.get(id);
      if (l?.owner === owner && l.expiresAtMs > now) {
        l.expiresAtMs = now;
        this.releases++;
      }
    }
  }

  async retireReplica(owner: string): Promise<void> {
    this.replicas.delete(owner);
  }

  async listLinkLeases(): Promise<LinkLeaseRecord[]> {
    return [...this.leases].map(([hostId, l]) => ({ hostId, ...l }));
  }

  /** Live holder of each host now. */
  holders(): Map<string, string> {
    const now = this.now();
    return new Map([...this.leases].filter(([, l]) => l.expiresAtMs > now).map(([id, l]) => [id, l.owner]));
  }

  #take(id: string, owner: string, ttlMs: number): boolean {
    const now = this.now();
    const l = this.leases.get(id);
    if (l && l.owner !== owner && l.expiresAtMs > now) return false;
    if (!l) {
      this.leases.set(id, { owner, generation: 1, acquiredAtMs: now, expiresAtMs: now + ttlMs });
      this.moves++;
    } else if (l.owner !== owner) {
      this.leases.set(id, { owner, generation: l.generation + 1, acquiredAtMs: now, expiresAtMs: now + ttlMs });
      this.moves++;
    } else {
      l.expiresAtMs = now + ttlMs;
    }
    return true;
  }
}
