/**
 * Replica takeover and long-poll figures (issue 19): two `vms-agent serve`
 * replicas with the default lease (3 s, heartbeat 1 s) on one PostgreSQL
 * server, two real hosts (bmc-oem + hypervisor-agent, one process).
 *
 * - takeover after kill -9 / after SIGTERM of the replica driving hv-01:
 *   from the signal to a command issued at the survivor right after it
 *   being applied (POST …?wait); median of 5 each; anchor: the same
 *   command's time with both replicas up (no takeover).
 * - ?wait latency: POST …/actions?wait=MS at the replica that does not
 *   drive the host vs at the one that does; median of 10 each; anchor:
 *   the owner.
 */
import { ReplicaCluster, type Replica } from '../replicas/replica-cluster.js';
import { type Benchmark, type Metric, metric } from './metric.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function ownerOf(c: ReplicaCluster, host: string): Promise<Replica | undefined> {
  const owner = (await c.pg.psql(`SELECT owner FROM link_leases WHERE host_id = '${host}' AND expires_at > clock_timestamp()`, c.dbName)).trim();
  const pid = Number(owner.split(':').at(-2));
  return c.live().find((r) => r.proc.pid === pid);
}

async function waitOwner(c: ReplicaCluster, host: string, timeoutMs = 30_000): Promise<Replica> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ownerOf(c, host);
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`no replica holds ${host}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

let nextAction = 0;
/** One command on hv-01's web-2 through `at`, long-polled until it is final; returns ms from `t0`. */
async function applyVia(c: ReplicaCluster, at: Replica, t0: number): Promise<number> {
  const action = nextAction++ % 2 === 0 ? 'start' : 'destroy';
  const r = await c.api<{ state: string }>(at, 'POST', '/v1/hosts/hv-01/domains/web-2/actions?wait=30000', { action }, {}, 40_000);
  if (r.status !== 202 || !['applied', 'failed'].includes(r.json.state)) throw new Error(`command not final: ${r.status} ${JSON.stringify(r.json)}`);
  return performance.now() - t0;
}

async function takeover(c: ReplicaCluster, how: 'kill' | 'term', trials: number, names: () => string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < trials; i++) {
    const owner = await waitOwner(c, 'hv-01');
    const survivor = c.live().find((r) => r !== owner)!;
    await applyVia(c, owner, performance.now()); // link up and warm
    const t0 = performance.now();
    if (how === 'kill') await owner.proc.crash();
    else void owner.proc.stop(10_000);
    out.push(await applyVia(c, survivor, t0));
    await owner.proc.waitForExit();
    await c.addReplica(names());
  }
  return out;
}

export const replicaBench: Benchmark = {
  name: 'replica',
  description: 'vms-agent replicas on PostgreSQL: takeover after kill -9 and SIGTERM, ?wait latency at a non-owner vs the owner',
  async run({ quick }) {
    const trials = quick ? 2 : 5;
    const c = await ReplicaCluster.start({ hosts: 2 });
    try {
      let n = 0;
      const name = () => `R${n++}`;
      await Promise.all([c.addReplica(name()), c.addReplica(name())]);
      await c.waitBalanced(c.live().map((r) => r.name));
      // Anchor: the same command with both replicas up.
      const owner = await waitOwner(c, 'hv-01');
      await applyVia(c, owner, performance.now());
      const steady: number[] = [];
      for (let i = 0; i < trials; i++) steady.push(await applyVia(c, owner, performance.now()));
      // ?wait at the owner and at the other replica, interleaved.
      const other = c.live().find((r) => r !== owner)!;
      const atOwner: number[] = [];
      const atOther: number[] = [];
      for (let i = 0; i < (quick ? 4 : 10); i++) {
        atOwner.push(await applyVia(c, owner, performance.now()));
        atOther.push(await applyVia(c, other, performance.now()));
      }
      const killed = await takeover(c, 'kill', trials, name);
      const termed = await takeover(c, 'term', trials, name);
      const anchor = median(steady);
      const metrics: Metric[] = [
        metric('takeover after kill -9 (signal → next command applied), median', median(killed), 'ms', 'same command, no takeover', anchor, `linkLeaseMs 3000 (heartbeat 1 s); ${trials} trials: ${killed.map((x) => x.toFixed(0)).join(', ')} ms`),
        metric('takeover after SIGTERM (signal → next command applied), median', median(termed), 'ms', 'same command, no takeover', anchor, `graceful hand-over: leases released and NOTIFY; ${trials} trials: ${termed.map((x) => x.toFixed(0)).join(', ')} ms`),
        metric('?wait command latency at the replica without the link, median', median(atOther), 'ms', '?wait at the replica driving the host', median(atOwner), `woken by NOTIFY vms_agent_command; ${atOther.length} commands each`),
      ];
      return metrics;
    } finally {
      await c.stop();
    }
  },
};
