/**
 * The link leases (link-leases.ts) in PostgreSQL: `link_leases` (one row
 * per host) and `link_replicas` (one row per replica that drives links,
 * renewed by its heartbeat). Every time is the database's clock
 * (clock_timestamp()), so the replicas' own clocks never decide who may
 * drive a link. postgres-store.ts runs the heartbeat in one transaction.
 */
import type pg from 'pg';
import type { HeartbeatCounts, HeldLease, LinkLeaseRecord } from './link-leases.js';

/** NOTIFY channel: a replica released leases (hand-over or shutdown); the others take them at once. */
export const LEASES_CHANNEL = 'vms_agent_leases';

type Client = Pick<pg.PoolClient, 'query'>;
const NOW = 'clock_timestamp()';
const UNTIL = `clock_timestamp() + $2 * interval '1 millisecond'`;

export async function claimLinks(c: Client, owner: string, hostIds: string[], ttlMs: number): Promise<string[]> {
  if (hostIds.length === 0) return [];
  const rows = await c.query<{ host_id: string }>(
    `INSERT INTO link_leases AS l (host_id, owner, generation, acquired_at, expires_at)
       SELECT id, $1, 1, ${NOW}, clock_timestamp() + $3 * interval '1 millisecond' FROM hosts WHERE id = ANY($2::text[])
     ON CONFLICT (host_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
       generation = CASE WHEN l.owner = excluded.owner THEN l.generation ELSE l.generation + 1 END,
       acquired_at = CASE WHEN l.owner = excluded.owner THEN l.acquired_at ELSE excluded.acquired_at END
     WHERE l.owner = excluded.owner OR l.expires_at <= ${NOW}
     RETURNING host_id`,
    [owner, hostIds, ttlMs],
  );
  return rows.rows.map((r) => r.host_id).sort();
}

/**
 * Marks `owner` live for `ttlMs`; true if it just joined. Its own statement, committed at once,
 * so a lease transaction that has to be run again never makes a live replica look dead.
 */
export async function registerReplica(c: Client, owner: string, ttlMs: number): Promise<boolean> {
  return (
    await c.query<{ fresh: boolean }>(
      `INSERT INTO link_replicas (owner, started_at, expires_at) VALUES ($1, ${NOW}, ${UNTIL})
       ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at RETURNING (xmax = 0) AS fresh`,
      [owner, ttlMs],
    )
  ).rows[0]!.fresh;
}

/**
 * The lease statements of one heartbeat; `c` is inside a transaction. Each
 * replica's statements lock only rows it owns or free rows it takes with
 * SKIP LOCKED, so heartbeats of several replicas never wait for each other.
 */
export async function heartbeat(c: Client, owner: string, ttlMs: number, joined: boolean, decide: (counts: HeartbeatCounts) => number): Promise<HeldLease[]> {
  // Renew what is still ours; a lease that expired meanwhile is free like any other (another may have it now).
  const held = (await c.query<{ host_id: string }>(`UPDATE link_leases SET expires_at = ${UNTIL} WHERE owner = $1 AND expires_at > ${NOW} RETURNING host_id`, [owner, ttlMs])).rows
    .map((r) => r.host_id)
    .sort();
  const counts = (
    await c.query<{ hosts: number; live: number }>(`SELECT (SELECT count(*) FROM hosts)::int AS hosts, (SELECT count(*) FROM link_replicas WHERE expires_at > ${NOW})::int AS live`)
  ).rows[0]!;
  const take = decide({ hosts: counts.hosts, live: counts.live, held, joined });
  if (take > 0) {
    // Every host gets a lease row (free: expired at -infinity), so free leases can be taken with
    // SKIP LOCKED: two replicas taking at once never wait for or deadlock with each other. Only
    // hosts without a row are inserted: an INSERT meeting an existing row that another
    // transaction is updating would wait for that transaction.
    await c.query(
      `INSERT INTO link_leases (host_id, owner, generation, acquired_at, expires_at)
         SELECT id, '', 0, ${NOW}, '-infinity' FROM hosts h WHERE NOT EXISTS (SELECT 1 FROM link_leases x WHERE x.host_id = h.id)
       ON CONFLICT (host_id) DO NOTHING`,
    );
    await c.query(
      `UPDATE link_leases l SET owner = $1, expires_at = ${UNTIL},
         generation = CASE WHEN l.owner = $1 THEN l.generation ELSE l.generation + 1 END,
         acquired_at = CASE WHEN l.owner = $1 THEN l.acquired_at ELSE ${NOW} END
       WHERE l.host_id IN (
         SELECT host_id FROM link_leases WHERE expires_at <= ${NOW}
         ORDER BY md5(host_id || $1) LIMIT $3 FOR UPDATE SKIP LOCKED)`,
      [owner, ttlMs, take],
    );
  }
  const rows = await c.query<{ host_id: string; generation: number; iana: number }>(
    `SELECT l.host_id, l.generation, h.iana FROM link_leases l JOIN hosts h ON h.id = l.host_id WHERE l.owner = $1 AND l.expires_at > ${NOW} ORDER BY l.host_id COLLATE "C"`,
    [owner],
  );
  return rows.rows.map((r) => ({ hostId: r.host_id, generation: r.generation, iana: r.iana }));
}

export async function releaseLinks(c: Client, owner: string, hostIds: string[]): Promise<void> {
  if (hostIds.length === 0) return;
  // Expire rather than delete, so the generation keeps counting.
  const r = await c.query(`UPDATE link_leases SET expires_at = ${NOW} WHERE owner = $1 AND host_id = ANY($2::text[]) AND expires_at > ${NOW}`, [owner, hostIds]);
  if ((r.rowCount ?? 0) > 0) await c.query('SELECT pg_notify($1, $2)', [LEASES_CHANNEL, owner]);
}

export async function raiseGeneration(c: Client, owner: string, hostId: string, bmcGeneration: number): Promise<number | undefined> {
  // Only a lease the caller still holds moves: a replica fenced because another one took the host over finds no row here.
  const r = await c.query<{ generation: string }>(
    `UPDATE link_leases SET generation = GREATEST(generation, $3::bigint) + 1 WHERE host_id = $1 AND owner = $2 AND expires_at > ${NOW} RETURNING generation`,
    [hostId, owner, bmcGeneration],
  );
  const row = r.rows[0];
  return row === undefined ? undefined : Number(row.generation);
}

export async function retireReplica(c: Client, owner: string): Promise<void> {
  await c.query('DELETE FROM link_replicas WHERE owner = $1', [owner]);
  // Rows of replicas that died long ago (kill -9) are only clutter.
  await c.query(`DELETE FROM link_replicas WHERE expires_at < ${NOW} - interval '1 day'`);
  await c.query('SELECT pg_notify($1, $2)', [LEASES_CHANNEL, owner]);
}

export async function listLinkLeases(c: Client): Promise<LinkLeaseRecord[]> {
  const rows = await c.query<{ host_id: string; owner: string; generation: number; acquired_at: Date; expires_at: Date }>(
    `SELECT * FROM link_leases WHERE owner <> '' ORDER BY host_id COLLATE "C"`,
  );
  return rows.rows.map((r) => ({ hostId: r.host_id, owner: r.owner, generation: r.generation, acquiredAtMs: r.acquired_at.getTime(), expiresAtMs: r.expires_at.getTime() }));
}
