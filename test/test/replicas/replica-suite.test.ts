/**
 * Manager replicas for production, with every part real: 3 `vms-agent
 * serve` replicas (a 4th joins and leaves, a replacement joins) on one
 * PostgreSQL server, 20 hosts (real bmc-oem daemons and hypervisor-agents,
 * all in one process: test/src/replicas/replica-fleet.ts), each replica
 * reaching PostgreSQL through a TCP proxy that can be frozen.
 *
 * - leases within ±1 of an even share after start, after a replica joins
 *   and after it leaves;
 * - every replica shows every host's link as its owner sees it;
 * - during a stream of commands (each POST with an Idempotency-Key, retried
 *   at another replica on errors): kill -9 of a replica, SIGSTOP/SIGCONT of
 *   another, and a frozen PostgreSQL connection of a third. Afterwards
 *   every key made one command, every command reached a final state and
 *   was applied exactly once by its hypervisor-agent, and every Put a
 *   fenced replica sent was refused by the BMC (counted there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPostgres } from '../../src/harness/postgres.js';
import { CommandStream } from '../../src/replicas/command-stream.js';
import { ReplicaCluster } from '../../src/replicas/replica-cluster.js';

const HOSTS = 20;
let cluster: ReplicaCluster | undefined;
let stream: CommandStream | undefined;
const sorted = (s: Record<string, number>, names: string[]) => names.map((n) => s[n] ?? 0).sort((a, b) => a - b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!hasPostgres()) return;
  // A 6 s lease (heartbeat 2 s) rather than the default 3 s: this suite shares 2 cores with much else, and a replica
  // starved of CPU for 2 s would lose its leases by design. The default is measured in test/bench (replica takeover).
  cluster = await ReplicaCluster.start({ hosts: HOSTS, vmsConfig: { linkLeaseMs: 6_000, postgres: { maxConnections: 16 } } });
  await Promise.all(['A', 'B', 'C'].map((n) => cluster!.addReplica(n)));
}, 150_000);

afterAll(async () => {
  await stream?.stop().catch(() => undefined);
  await cluster?.stop();
});

async function waitZero(name: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await cluster!.shares())[name]) {
    if (Date.now() > deadline) throw new Error(`${name} still holds leases after ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe.skipIf(!hasPostgres())('replica suite: 3 replicas, 20 hosts (skipped when no PostgreSQL server binaries are installed)', () => {
  it('3 replicas started together split the 20 leases 7/7/6; a 4th joining gets 5 of each, and leaving gives them back', async () => {
    const c = cluster!;
    expect(sorted(await c.waitBalanced(['A', 'B', 'C']), ['A', 'B', 'C'])).toEqual([6, 7, 7]);
    await c.addReplica('D');
    expect(sorted(await c.waitBalanced(['A', 'B', 'C', 'D']), ['A', 'B', 'C', 'D'])).toEqual([5, 5, 5, 5]);
    const d = c.replicas.get('D')!;
    await d.proc.stop(); // SIGTERM: links stopped, leases released, replica retired
    // D got its share from the others by hand-over (released at once), not by waiting for expiry.
    expect(['A', 'B', 'C'].filter((n) => c.replicas.get(n)!.proc.output.includes('handed link leases over'))).toEqual(['A', 'B', 'C']);
    expect(sorted(await c.waitBalanced(['A', 'B', 'C']), ['A', 'B', 'C'])).toEqual([6, 7, 7]);
  }, 120_000);

  it("every replica shows every host's link as its owner sees it (up), not 'no link running in this process'", async () => {
    const c = cluster!;
    for (const r of c.live()) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const hosts = (await c.api<{ hosts: { id: string; link: { state: string; lastError: string | null } }[] }>(r, 'GET', '/v1/hosts')).json.hosts;
        const notUp = hosts.filter((h) => h.link.state !== 'up');
        if (notUp.length === 0) break;
        if (Date.now() > deadline) throw new Error(`replica ${r.name}: links not shown up: ${JSON.stringify(notUp.slice(0, 3))}`);
        await sleep(200);
      }
    }
  }, 60_000);

  it('kill -9, SIGSTOP/SIGCONT and a frozen PostgreSQL connection during a stream of commands: every command applied exactly once, no Put from a fenced replica accepted', async () => {
    const c = cluster!;
    stream = new CommandStream(c, 250);
    stream.start();
    await sleep(2_000);

    // kill -9 of A: B and C take its hosts once its heartbeat expires; a replacement E joins.
    await c.replicas.get('A')!.proc.crash();
    expect(sorted(await c.waitBalanced(['B', 'C']), ['B', 'C'])).toEqual([10, 10]);
    await c.addReplica('E');
    await c.waitBalanced(['B', 'C', 'E']);
    await sleep(1_000);

    // SIGSTOP of B for longer than the lease: C and E take its hosts; SIGCONT: B finds itself fenced and rejoins.
    const b = c.replicas.get('B')!;
    process.kill(b.proc.pid, 'SIGSTOP');
    await waitZero('B');
    await sleep(1_500);
    process.kill(b.proc.pid, 'SIGCONT');
    await c.waitBalanced(['B', 'C', 'E']);
    await sleep(1_000);

    // C's path to PostgreSQL freezes: its heartbeat stalls, its links stop by its own clock, B and E take over.
    const cc = c.replicas.get('C')!;
    cc.proxy.freeze();
    await waitZero('C');
    await sleep(2_000);
    cc.proxy.thaw();
    await c.waitBalanced(['B', 'C', 'E']);
    await sleep(1_000);
    await stream.stop();

    // Every key made exactly one command (a retried POST returned the first one).
    const issued = stream.issued;
    const unanswered = issued.filter((i) => !i.id);
    expect(unanswered, JSON.stringify(unanswered.slice(0, 3))).toEqual([]);
    expect(new Set(issued.map((i) => i.id)).size).toBe(issued.length);
    const stored = Number((await c.pg.psql('SELECT count(*) FROM commands', c.dbName)).trim());
    expect(stored).toBe(issued.length);
    const retried = issued.filter((i) => i.failures.length > 0);

    // Every command final, each applied exactly once by its host's agent.
    const deadline = Date.now() + 60_000;
    let open: string[] = [];
    for (;;) {
      open = (await c.pg.psql("SELECT id FROM commands WHERE state NOT IN ('applied', 'failed', 'denied', 'expired')", c.dbName)).trim().split('\n').filter(Boolean);
      if (open.length === 0 || Date.now() > deadline) break;
      await sleep(500);
    }
    if (open.length > 0) {
      const byState = (await c.pg.psql('SELECT state, count(*) FROM commands GROUP BY state', c.dbName)).trim().replace(/\n/g, ', ');
      const trail = await c.pg.psql(`SELECT e.at_ms, e.kind, e.state, e.detail FROM command_events e WHERE e.command_id = '${open[0]}' ORDER BY seq`, c.dbName);
      const cmd = await c.pg.psql(`SELECT host_id, created_at_ms FROM commands WHERE id = '${open[0]}'`, c.dbName);
      const leases = await c.pg.psql('SELECT host_id, owner, generation, expires_at > clock_timestamp() FROM link_leases ORDER BY host_id', c.dbName);
      const outbox = await c.pg.psql('SELECT host_id, count(*) FROM outbox GROUP BY host_id ORDER BY host_id', c.dbName);
      const warns = c.live().map((r) => `--- ${r.name}\n${r.proc.output.split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-8).join('\n')}`).join('\n');
      throw new Error(`${open.length} of ${issued.length} commands not final (${byState}); ${cmd.trim()} trail:\n${trail}\nleases:\n${leases}\noutbox:\n${outbox}\n${warns}`);
    }
    const counts = await c.counts();
    const notOnce = issued.filter((i) => counts.applied[i.id!] !== 1).map((i) => `${i.host} ${i.action} ${i.id}: ${counts.applied[i.id!] ?? 0}`);
    expect(notOnce).toEqual([]);
    const states = (await c.pg.psql('SELECT state, count(*) FROM commands GROUP BY state ORDER BY state', c.dbName)).trim();

    // Fencing: every takeover claimed a newer generation at the BMC; what the stale replicas still sent was refused there.
    const generations = Object.values(counts.generations);
    expect(generations.every((g) => g >= 1)).toBe(true);
    console.log(
      `replica suite: ${issued.length} commands (${states.replace(/\n/g, ', ')}), ${retried.length} POSTs retried at another replica ` +
        `(${retried.filter((i) => i.replayed).length} answered as replays of a stored command), each applied once; ` +
        `BMCs refused ${counts.fencedPuts} Put and ${counts.fencedGets} Get Record from fenced replicas; highest generation ${Math.max(...generations)}`,
    );
    const fencedLog = [...c.replicas.values()].map((r) => (r.proc.output.match(/fenced by the BMC/g) ?? []).length).reduce((a, b) => a + b, 0);
    console.log(`replica suite: links stopped by a BMC refusal (0x81): ${fencedLog}; by the local lease fence: ${[...c.replicas.values()].map((r) => (r.proc.output.match(/lease not renewed in time/g) ?? []).length).reduce((a, b) => a + b, 0)}`);
  }, 150_000);
});
