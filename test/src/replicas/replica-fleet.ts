/**
 * The hosts of the replica suite, in one process (the lightest real setup):
 * for each host a real bmc-oem daemon (startDaemon: RMCP+ on its own UDP
 * port, VM protocol on its own TCP port, in-memory queues) and a real
 * hypervisor-agent `Agent` (its own SQLite state and request-id journal,
 * its own libvirt test-driver connection on the 3-domain fixture) linked to
 * it over the VM protocol. Only the process is shared, as in the fleet
 * benchmark (test/src/bench/fleet-sim.ts), with what the suite counts
 * added: every "applying action" each agent logs, by request id, and the
 * Puts each BMC refused from fenced manager replicas.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger as bmcLogger, type RunningDaemon } from '@backchannel/bmc-oem';
import { type Agent, AgentMetrics, compilePolicy, createLogger as agentLogger, libvirtLibraryVersion, type Policy } from '@backchannel/hypervisor-agent';
import { startInProcessHost } from '../bench/in-process-host.js';


export interface ReplicaFleetOptions {
  count: number;
  dir: string;
  bmcUser: string;
  bmcPassword: string;
  /** Public keys ("ed25519:…") of the principals every host's policy admits as admins. */
  admins: Record<string, string>;
}

export interface FleetHost {
  id: string;
  rmcpPort: number;
  seed: string;
  hostPublicKey: string;
}

export interface FleetCounts {
  /** request id → how many times an agent logged applying it. */
  applied: Record<string, number>;
  /** Put Record / Get Record refused with 0x81, summed over the BMCs. */
  fencedPuts: number;
  fencedGets: number;
  /** Highest producer generation claimed at each BMC. */
  generations: Record<string, number>;
}

export class ReplicaFleet {
  readonly hosts: FleetHost[] = [];
  readonly #running: { id: string; daemon: RunningDaemon; agent: Agent }[] = [];
  readonly #applied = new Map<string, number>();

  static async start(o: ReplicaFleetOptions): Promise<ReplicaFleet> {
    const fleet = new ReplicaFleet();
    mkdirSync(o.dir, { recursive: true });
    const passwordFile = join(o.dir, 'bmc.pw');
    writeFileSync(passwordFile, `${o.bmcPassword}\n`, { mode: 0o600 });
    const policy: Policy = compilePolicy({
      version: 1,
      principals: Object.fromEntries(Object.entries(o.admins).map(([name, key]) => [name, { publicKeys: [key], roles: ['admin'] }])),
      roles: { admin: { actions: ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume', 'list_domains', 'domain_info'], domains: ['*'] } },
      challengeTtlSeconds: 120,
    });
    const bmcLog = bmcLogger('warn');
    // The agents' info lines go to a counter, not to a terminal: "applying action" is what proves exactly-once.
    const agentLog = agentLogger('info', {
      write: (line: string) => {
        if (!line.includes('"applying action"')) return;
        const id = /"requestId":"([0-9a-f]+)"/.exec(line)?.[1];
        if (id) fleet.#applied.set(id, (fleet.#applied.get(id) ?? 0) + 1);
      },
    });
    const metrics = new AgentMetrics();
    const libvirtVersion = libvirtLibraryVersion();
    try {
      for (let i = 0; i < o.count; i++) {
        const id = `hv-${String(i + 1).padStart(2, '0')}`;
        const host = await startInProcessHost({ id, dir: o.dir, bmcUser: o.bmcUser, passwordFile, policy, bmcLog, agentLog, metrics, libvirtVersion, poll: { minMs: 20, maxMs: 200 }, reportIntervalMs: 5_000, statePollMs: 5_000 });
        fleet.#running.push(host);
        fleet.hosts.push(host.enrolment);
      }
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  counts(): FleetCounts {
    let fencedPuts = 0;
    let fencedGets = 0;
    const generations: Record<string, number> = {};
    for (const r of this.#running) {
      fencedPuts += r.daemon.queues.stats.fencedPuts;
      fencedGets += r.daemon.queues.stats.fencedGets;
      generations[r.id] = r.daemon.queues.producerGeneration;
    }
    return { applied: Object.fromEntries(this.#applied), fencedPuts, fencedGets, generations };
  }

  async stop(): Promise<void> {
    for (const r of this.#running.splice(0)) {
      await r.agent.stop().catch(() => undefined);
      await r.daemon.stop().catch(() => undefined);
    }
  }
}
