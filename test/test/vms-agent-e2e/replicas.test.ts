/**
 * Two `vms-agent serve` replicas on one PostgreSQL database, one real
 * bmc-oem and hypervisor-agent (libvirt test driver). Exactly one replica
 * drives the host's link (its lease); the API of either reads and writes
 * the shared state, so a command issued or approved at either is sent by
 * the lease holder and applied once. kill -9 of the holder: the other
 * replica takes the lease over once it expires and completes what was in
 * flight and what was queued meanwhile, each applied once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../../src/harness/managed-process.js';
import { hasPostgres, type PostgresServer, startPostgres } from '../../src/harness/postgres.js';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface Cmd {
  id: string;
  state: string;
  approvals: { principal: string; custodial: boolean }[];
  result: { outcome: string; newState: string } | null;
}
interface Replica {
  name: string;
  proc: ManagedProcess;
  url: string;
}

const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
const LEASE_MS = 3_000;
let pg: PostgresServer | undefined;
let stack: VmsAgentStack | undefined;
let dbName = '';
const replicas: Replica[] = [];

beforeAll(async () => {
  if (!hasPostgres()) return;
  pg = await startPostgres();
  const url = await pg.createDatabase();
  dbName = new URL(url).pathname.slice(1);
  stack = new VmsAgentStack({ db: url, vmsConfig: { linkLeaseMs: LEASE_MS } });
  await stack.start();
  replicas.push({ name: 'A', proc: stack.vms, url: stack.url });
  const b = await stack.spawnVms('vms-agent-b');
  replicas.push({ name: 'B', ...b });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await pg?.stop();
});

/** The replica whose lease on hv-01 is current, from the shared database. */
async function leaseHolder(): Promise<Replica | undefined> {
  const owner = (await pg!.psql("SELECT owner FROM link_leases WHERE host_id = 'hv-01' AND expires_at > clock_timestamp()", dbName)).trim();
  const pid = Number(owner.split(':').at(-2));
  return replicas.find((r) => r.proc.pid === pid && !r.proc.exited);
}

async function issue(at: Replica, domain: string, action: string, as = 'alice'): Promise<string> {
  const r = await stack!.apiAt<Cmd>(at.url, 'POST', `/v1/hosts/hv-01/domains/${domain}/actions`, as, { action });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json.id;
}

async function waitCommand(at: Replica, id: string, done: (c: Cmd) => boolean, timeoutMs = 30_000): Promise<Cmd> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await stack!.apiAt<Cmd>(at.url, 'GET', `/v1/commands/${id}`, 'alice');
    if (done(json)) return json;
    if (Date.now() > deadline) throw new Error(`command ${id} still ${json.state} after ${timeoutMs} ms (seen at replica ${at.name})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasPostgres())('two vms-agent replicas on PostgreSQL (skipped when no PostgreSQL server binaries are installed; scripts/bootstrap installs postgresql)', () => {
  it('exactly one replica drives the host link; the other runs none but shows the owner’s link health', async () => {
    let holder: Replica | undefined;
    for (let i = 0; i < 100 && !holder; i++) {
      holder = await leaseHolder();
      if (!holder) await new Promise((r) => setTimeout(r, 100));
    }
    expect(holder?.name).toBe('A'); // A started first and took the free lease
    const links = async (r: Replica) =>
      (await stack!.apiAt<{ hosts: { id: string; link: { state: string; lastError: string | null } }[] }>(r.url, 'GET', '/v1/hosts', 'alice')).json.hosts[0]!.link;
    for (let i = 0; i < 100 && (await links(replicas[0]!)).state !== 'up'; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await links(replicas[0]!)).state).toBe('up');
    // B drives nothing but shows the link as A, its owner, reports it (shared through PostgreSQL).
    for (let i = 0; i < 100 && (await links(replicas[1]!)).state !== 'up'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await links(replicas[1]!)).toMatchObject({ state: 'up', lastError: null });
    expect(replicas[1]!.proc.output).not.toContain('took the link lease');
  });

  it('a command issued at replica A and one issued at replica B are each applied once', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const viaA = await issue(a, 'web-2', 'start');
    const viaB = await issue(b, 'db-1', 'resume');
    // Each replica sees both: the state is shared, not per process.
    for (const at of [a, b]) {
      expect((await waitCommand(at, viaA, (c) => FINAL.has(c.state))).state).toBe('applied');
      expect((await waitCommand(at, viaB, (c) => FINAL.has(c.state))).state).toBe('applied');
    }
    expect((await waitCommand(b, viaA, () => true)).result).toMatchObject({ outcome: 'applied', newState: 'running' });
    expect(stack!.appliedCount(viaA)).toBe(1);
    expect(stack!.appliedCount(viaB)).toBe(1);
  }, 60_000);

  it('an operator approval posted at the replica without the link completes the command', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const id = await issue(a, 'web-1', 'destroy', 'bob');
    await waitCommand(b, id, (c) => c.state === 'awaiting_approval');
    const saved = stack!.url;
    stack!.url = b.url; // `vms-agent approve --url B`
    try {
      const approve = await stack!.cli(['approve', id, '--key', stack!.bobKeyFile], 'bob');
      expect(approve.code, approve.stderr).toBe(0);
    } finally {
      stack!.url = saved;
    }
    const done = await waitCommand(a, id, (c) => FINAL.has(c.state));
    expect(done.state).toBe('applied');
    expect(done.approvals).toEqual([expect.objectContaining({ principal: 'bob', custodial: false })]);
    expect(stack!.appliedCount(id)).toBe(1);
  }, 60_000);

  it('kill -9 of the lease holder: the other replica takes the link over and completes in-flight and queued commands once', async () => {
    const holder = (await leaseHolder())!;
    const survivor = replicas.find((r) => r !== holder)!;
    const inFlight = await issue(holder, 'db-1', 'suspend');
    await holder.proc.crash();
    const killedAt = Date.now();
    // Queued while nobody drives the link: it waits in the shared outbox.
    const queued = await issue(survivor, 'web-1', 'start');
    await survivor.proc.waitFor(/took the link lease/, LEASE_MS + 10_000);
    const takeoverMs = Date.now() - killedAt;
    expect((await leaseHolder())?.name).toBe(survivor.name);
    for (const id of [inFlight, queued]) {
      const c = await waitCommand(survivor, id, (x) => FINAL.has(x.state));
      expect(c.state, `${id}: ${JSON.stringify(c.result)}`).toBe('applied');
      expect(stack!.appliedCount(id)).toBe(1);
    }
    // Takeover waits for the dead holder's lease to expire, and not much longer (renewal every ttl/5).
    expect(takeoverMs).toBeLessThan(LEASE_MS + 3_000);
    console.log(`lease takeover ${takeoverMs} ms after kill -9 (lease ${LEASE_MS} ms)`);
  }, 60_000);
});
