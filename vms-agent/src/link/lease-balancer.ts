/**
 * How many host links one replica should drive: its share of the hosts
 * among the live replicas, ceil(hosts / live). Pure; the lease keeper
 * applies the plan at every heartbeat.
 *
 * - Below its share, a replica takes free (released or expired) leases,
 *   up to the share. It never takes a lease another live replica holds.
 * - Above its share (another replica joined), it hands the excess over:
 *   it stops those links and releases their leases at once, so the
 *   newcomer takes them at its next heartbeat (woken by a notification)
 *   instead of after an expiry.
 * - Churn is bounded: a lease moves only from a replica above its share
 *   to one below it, so the number of moves after a change is the
 *   imbalance the change caused, not the fleet size.
 *
 * With ceil, every replica may hold one more than an exact split: shares
 * stay within ±1 of even (20 hosts on 3 replicas: 7, 7, 6).
 */
export interface BalanceInput {
  /** Hosts in the inventory. */
  hosts: number;
  /** Replicas whose heartbeat is current (this one included). */
  live: number;
  /** Host ids this replica holds now, in the order it would give them up (last first). */
  held: readonly string[];
}

export interface BalancePlan {
  share: number;
  /** How many free leases to take now. */
  take: number;
  /** Leases to hand over (stop the link, release). */
  shed: string[];
}

export function shareOf(hosts: number, live: number): number {
  if (hosts <= 0) return 0;
  return Math.ceil(hosts / Math.max(1, live));
}

export function planBalance(input: BalanceInput): BalancePlan {
  const share = shareOf(input.hosts, input.live);
  const excess = input.held.length - share;
  return {
    share,
    take: Math.max(0, share - input.held.length),
    shed: excess > 0 ? input.held.slice(input.held.length - excess) : [],
  };
}
