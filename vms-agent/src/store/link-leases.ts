/**
 * Per-host link leases, for stores shared by several vms-agent replicas.
 *
 * Each host's link (one RMCP+ session, the Put Record sequence on queue 1,
 * the Get Record cursor on queue 2, the in-memory replay window) must be
 * driven by exactly one process at a time. A lease is a row naming the
 * owning replica and an expiry in the database's clock; the owner renews
 * it, and another replica takes it only once it has expired (or was
 * released at shutdown). The link/lease-keeper.ts side stops a link on its
 * own well before the lease could expire, so two replicas never overlap.
 */
export interface LinkLeaseRecord {
  hostId: string;
  owner: string;
  /** Grows by one each time another owner takes the lease over. */
  generation: number;
  acquiredAtMs: number;
  expiresAtMs: number;
}

export interface LinkLeases {
  /**
   * Takes or renews, for `owner`, the lease of every host in `hostIds` that
   * is free, expired or already `owner`'s, for `ttlMs` from now (database
   * time). Returns the hosts `owner` holds afterwards. One statement: hosts
   * held by a live other owner are left alone.
   */
  claimLinks(owner: string, hostIds: string[], ttlMs: number): Promise<string[]>;
  /** Gives up `owner`'s leases on `hostIds` at once (graceful shutdown, removed host). */
  releaseLinks(owner: string, hostIds: string[]): Promise<void>;
  listLinkLeases(): Promise<LinkLeaseRecord[]>;
}

export function isLinkLeases(x: unknown): x is LinkLeases {
  return typeof (x as Partial<LinkLeases>)?.claimLinks === 'function' && typeof (x as Partial<LinkLeases>)?.releaseLinks === 'function';
}
