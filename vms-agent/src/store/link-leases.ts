/**
 * Per-host link leases, for stores shared by several vms-agent replicas.
 *
 * Each host's link (one RMCP+ session, the Put Record sequence on queue 1,
 * the Get Record cursor on queue 2, the in-memory replay window) must be
 * driven by exactly one process at a time. A lease is a row naming the
 * owning replica, a generation (the fencing token the BMC checks) and an
 * expiry in the database's clock; the owner renews it with its heartbeat,
 * and another replica takes it only once it has expired (or was released
 * at shutdown or hand-over). The link/lease-keeper.ts side stops a link on
 * its own well before the lease could expire, and the BMC refuses Puts
 * from an older generation (docs/bmc-queues.md, "Producer generation"),
 * so two replicas never both write to a host's queue.
 */
export interface LinkLeaseRecord {
  hostId: string;
  owner: string;
  /** Grows by one each time another owner takes the lease over (the fencing token). */
  generation: number;
  acquiredAtMs: number;
  expiresAtMs: number;
}

/** What a heartbeat saw, in the database's clock at that moment. */
export interface HeartbeatCounts {
  hosts: number;
  /** Replicas whose heartbeat is current, the caller's included. */
  live: number;
  /** Host ids the caller holds after renewing, before taking any. */
  held: string[];
  /** The caller's replica row was created by this heartbeat (it just joined). */
  joined: boolean;
}

export interface HeldLease {
  hostId: string;
  generation: number;
  /** The host's OEM IANA (the fencing claim carries it), so a heartbeat alone is enough to start a link. */
  iana?: number;
}

export interface LinkLeases {
  /**
   * Takes or renews, for `owner`, the lease of every host in `hostIds` that
   * is free, expired or already `owner`'s, for `ttlMs` from now (database
   * time). Returns the hosts `owner` holds afterwards. One statement: hosts
   * held by a live other owner are left alone.
   */
  claimLinks(owner: string, hostIds: string[], ttlMs: number): Promise<string[]>;
  /**
   * One heartbeat of `owner`, in one transaction: marks it live for
   * `ttlMs`, renews the leases it still holds, asks `decide` how many free
   * leases to take (from the counts), takes up to that many, and returns
   * every lease it holds with its generation.
   */
  heartbeatLinks(owner: string, ttlMs: number, decide: (counts: HeartbeatCounts) => number): Promise<HeldLease[]>;
  /**
   * The BMC of `hostId` refused `owner`'s generation because it knows a
   * higher one, `bmcGeneration`, that no live lease explains (the host was
   * removed and added again, or the store was restored from a backup). If
   * `owner` still holds the lease, its generation becomes bmcGeneration + 1
   * and is returned; otherwise (another replica took it: real fencing)
   * nothing changes and the result is undefined.
   */
  raiseGeneration(owner: string, hostId: string, bmcGeneration: number): Promise<number | undefined>;
  /** Gives up `owner`'s leases on `hostIds` at once (graceful shutdown, hand-over, removed host), and tells the other replicas. */
  releaseLinks(owner: string, hostIds: string[]): Promise<void>;
  /** Removes `owner` from the live replicas (graceful shutdown), so the others' shares grow at once. */
  retireReplica(owner: string): Promise<void>;
  listLinkLeases(): Promise<LinkLeaseRecord[]>;
}

export function isLinkLeases(x: unknown): x is LinkLeases {
  return typeof (x as Partial<LinkLeases>)?.claimLinks === 'function' && typeof (x as Partial<LinkLeases>)?.heartbeatLinks === 'function';
}
