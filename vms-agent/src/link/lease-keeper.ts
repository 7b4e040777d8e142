/**
 * This replica's side of the link leases (store/link-leases.ts): claims and
 * renews the leases of the hosts it can drive, and says, from its own
 * clock alone, whether it may still drive a host's link.
 *
 * Why "its own clock alone": if the database becomes unreachable, renewals
 * stop arriving, and another replica may take the host over once the lease
 * expires in the database's clock. A lease is renewed for `ttlMs` from a
 * moment after the renewal was sent, so counting from the send, this
 * replica is sure it still holds the lease for `ttlMs`. It lets go after
 * half of that (`fenceMs`), which leaves the other half for its link to
 * finish the IPMI request in flight before anyone else may start.
 */
import type { LinkLeases } from '../store/link-leases.js';

export interface LeaseKeeperOptions {
  leases: LinkLeases;
  /** This replica's name in the lease rows (host:pid:random; unique per process start). */
  owner: string;
  ttlMs: number;
  clock: () => number;
}

export class LeaseKeeper {
  readonly owner: string;
  readonly #o: LeaseKeeperOptions;
  /** host → local time until which this replica may drive its link. */
  readonly #validUntil = new Map<string, number>();

  constructor(options: LeaseKeeperOptions) {
    if (!(options.ttlMs >= 1_000)) throw new RangeError(`link lease must be at least 1000 ms, got ${options.ttlMs}`);
    this.#o = options;
    this.owner = options.owner;
  }

  /** How long after a renewal was sent this replica keeps driving without a newer one. */
  get fenceMs(): number {
    return Math.floor(this.#o.ttlMs / 2);
  }

  /** How often leases are renewed: several chances before the fence. */
  get renewEveryMs(): number {
    return Math.floor(this.#o.ttlMs / 5);
  }

  /** Claims or renews the leases of `hostIds`; returns those this replica holds now. */
  async claim(hostIds: string[]): Promise<Set<string>> {
    const sentAt = this.#o.clock();
    const held = new Set(await this.#o.leases.claimLinks(this.#o.owner, hostIds, this.#o.ttlMs));
    for (const id of [...this.#validUntil.keys()]) if (!held.has(id)) this.#validUntil.delete(id);
    for (const id of held) this.#validUntil.set(id, sentAt + this.fenceMs);
    return held;
  }

  holds(hostId: string): boolean {
    return (this.#validUntil.get(hostId) ?? Number.NEGATIVE_INFINITY) > this.#o.clock();
  }

  /** Gives every lease up (shutdown), so another replica takes over at its next renewal instead of after expiry. */
  async releaseAll(): Promise<void> {
    const ids = [...this.#validUntil.keys()];
    this.#validUntil.clear();
    await this.#o.leases.releaseLinks(this.#o.owner, ids);
  }
}
