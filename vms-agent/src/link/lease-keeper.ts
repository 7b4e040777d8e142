/**
 * This replica's side of the link leases (store/link-leases.ts): a
 * heartbeat that keeps the replica registered as live, renews its leases,
 * takes about its share of the free ones (link/lease-balancer.ts) and says
 * which to hand over; and, from its own clock alone, whether it may still
 * drive a host's link.
 *
 * Why "its own clock alone": if the database becomes unreachable, renewals
 * stop arriving, and another replica may take the host over once the lease
 * expires in the database's clock. A lease is renewed for `ttlMs` from a
 * moment after the heartbeat was sent, so counting from the send, this
 * replica is sure it still holds the lease for `ttlMs`. It lets go after
 * two thirds of that (`fenceMs`), which leaves the last third for its link
 * to finish the IPMI request in flight before anyone else may start; the
 * BMC's generation check (docs/bmc-queues.md) refuses whatever a replica
 * that was frozen past all of this still sends.
 *
 * Defaults (docs/vms-agent.md, "Several replicas"): ttl 3 s, so a
 * heartbeat every second and takeover about 3–4 s after a crash.
 */
import type { HeldLease, LinkLeases } from '../store/link-leases.js';
import { planBalance } from './lease-balancer.js';

export interface LeaseKeeperOptions {
  leases: LinkLeases;
  /** This replica's name in the lease rows (host:pid:random; unique per process start). */
  owner: string;
  ttlMs: number;
  clock: () => number;
}

export interface HeartbeatResult {
  /** host → lease generation (fencing token), for every lease held, including those to shed. */
  held: Map<string, number>;
  /** host → OEM IANA, where the store said. */
  iana: Map<string, number>;
  /** Leases above this replica's share: stop their links, then `release` them. */
  shed: string[];
  share: number;
}

export class LeaseKeeper {
  readonly owner: string;
  readonly #o: LeaseKeeperOptions;
  /** host → local time until which this replica may drive its link. */
  readonly #validUntil = new Map<string, number>();
  readonly #generation = new Map<string, number>();

  constructor(options: LeaseKeeperOptions) {
    if (!(options.ttlMs >= 1_000)) throw new RangeError(`link lease must be at least 1000 ms, got ${options.ttlMs}`);
    this.#o = options;
    this.owner = options.owner;
  }

  /** How long after a heartbeat was sent this replica keeps driving without a newer one. */
  get fenceMs(): number {
    return Math.floor((this.#o.ttlMs * 2) / 3);
  }

  /** How often the heartbeat runs: a lease survives two missed ones. */
  get renewEveryMs(): number {
    return Math.floor(this.#o.ttlMs / 3);
  }

  /** Claims or renews the leases of `hostIds` without balancing (tests, tools); returns those this replica holds now. */
  async claim(hostIds: string[]): Promise<Set<string>> {
    const sentAt = this.#o.clock();
    const held = new Set(await this.#o.leases.claimLinks(this.#o.owner, hostIds, this.#o.ttlMs));
    for (const id of [...this.#validUntil.keys()]) if (!held.has(id)) this.#validUntil.delete(id);
    for (const id of held) this.#validUntil.set(id, sentAt + this.fenceMs);
    return held;
  }

  /**
   * One heartbeat. The first one of a replica only registers it (takes
   * nothing), so replicas started together see each other before they
   * split the hosts.
   */
  async heartbeat(): Promise<HeartbeatResult> {
    const sentAt = this.#o.clock();
    let plan = { share: 0, take: 0, shed: [] as string[] };
    const leases: HeldLease[] = await this.#o.leases.heartbeatLinks(this.#o.owner, this.#o.ttlMs, (counts) => {
      plan = planBalance({ hosts: counts.hosts, live: counts.live, held: counts.held });
      return counts.joined ? 0 : plan.take;
    });
    const held = new Map(leases.map((l) => [l.hostId, l.generation]));
    for (const id of [...this.#validUntil.keys()]) {
      if (held.has(id)) continue;
      this.#validUntil.delete(id);
      this.#generation.delete(id);
    }
    for (const [id, generation] of held) {
      this.#validUntil.set(id, sentAt + this.fenceMs);
      this.#generation.set(id, generation);
    }
    const iana = new Map(leases.filter((l) => l.iana !== undefined).map((l) => [l.hostId, l.iana!]));
    return { held, iana, shed: plan.shed.filter((id) => held.has(id)), share: plan.share };
  }

  holds(hostId: string): boolean {
    return (this.#validUntil.get(hostId) ?? Number.NEGATIVE_INFINITY) > this.#o.clock();
  }

  /** The generation of the lease this replica holds on `hostId` (its fencing token at the BMC). */
  generation(hostId: string): number | undefined {
    return this.#generation.get(hostId);
  }

  /** Hands `hostIds` over: this replica stops vouching for them at once, then releases them. */
  async release(hostIds: string[]): Promise<void> {
    for (const id of hostIds) {
      this.#validUntil.delete(id);
      this.#generation.delete(id);
    }
    await this.#o.leases.releaseLinks(this.#o.owner, hostIds);
  }

  /**
   * The BMC holds a generation above this lease's that no live lease
   * explains (host removed and added again, store restored): moves the lease
   * past it if this replica still holds it (store/link-leases.ts). The next
   * heartbeat reports the new generation and the link starts under it.
   */
  async raiseGeneration(hostId: string, bmcGeneration: number): Promise<number | undefined> {
    const raised = await this.#o.leases.raiseGeneration(this.#o.owner, hostId, bmcGeneration);
    if (raised !== undefined) this.#generation.set(hostId, raised);
    return raised;
  }

  /** Gives every lease up and leaves the live replicas (shutdown), so the others take over at once instead of after expiry. */
  async releaseAll(): Promise<void> {
    const ids = [...this.#validUntil.keys()];
    this.#validUntil.clear();
    this.#generation.clear();
    await this.#o.leases.releaseLinks(this.#o.owner, ids);
    await this.#o.leases.retireReplica(this.#o.owner);
  }
}
