/**
 * Many simulated hypervisor hosts in one process, for the fleet benchmark:
 * for each host a real bmc-oem daemon (startDaemon: RMCP+ on its own UDP
 * port, VM protocol on its own TCP port, in-memory queues) and a real
 * hypervisor-agent `Agent` (its own SQLite state, its own libvirt test-driver
 * connection on the 3-domain fixture) linked to it over the VM protocol.
 * Only the process is shared; every host has its own keys, seed and state.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger as bmcLogger, type RunningDaemon } from '@backchannel/bmc-oem';
import { type Agent, AgentMetrics, compilePolicy, createLogger as agentLogger, libvirtLibraryVersion, type Policy } from '@backchannel/hypervisor-agent';
import { startInProcessHost } from './in-process-host.js';


export interface FleetSimOptions {
  /** Host ids are `${prefix}${first + i}` (zero-padded to 4). */
  prefix: string;
  first: number;
  count: number;
  dir: string;
  /** The BMC user vms-agent logs in as (operator). */
  bmcUser: string;
  bmcPassword: string;
  /** Public keys ("ed25519:…") of the principals every host's policy admits as admins. */
  admins: Record<string, string>;
  reportIntervalMs: number;
}

/** What vms-agent needs to know about one simulated host. */
export interface SimHost {
  id: string;
  rmcpPort: number;
  /** base64 of the 32-byte envelope seed (what `hosts add` would generate and the bundle carry). */
  seed: string;
  hostPublicKey: string;
}

interface Running {
  id: string;
  daemon: RunningDaemon;
  agent: Agent;
}

export class FleetSim {
  readonly hosts: SimHost[] = [];
  readonly #running: Running[] = [];

  static async start(o: FleetSimOptions): Promise<FleetSim> {
    const sim = new FleetSim();
    mkdirSync(o.dir, { recursive: true });
    const passwordFile = join(o.dir, 'bmc.pw');
    writeFileSync(passwordFile, `${o.bmcPassword}\n`, { mode: 0o600 });
    const policy: Policy = compilePolicy({
      version: 1,
      principals: Object.fromEntries(Object.entries(o.admins).map(([name, key]) => [name, { publicKeys: [key], roles: ['admin'] }])),
      roles: { admin: { actions: ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume', 'list_domains', 'domain_info'], domains: ['*'] } },
      challengeTtlSeconds: 120,
    });
    // One logger and one metrics registry for the whole process: they are the simulator's, not what is measured.
    const bmcLog = bmcLogger('warn');
    const agentLog = agentLogger('warn');
    const metrics = new AgentMetrics();
    const libvirtVersion = libvirtLibraryVersion();
    try {
      for (let i = 0; i < o.count; i++) {
        const id = `${o.prefix}${String(o.first + i).padStart(4, '0')}`;
        const host = await startInProcessHost({ id, dir: o.dir, bmcUser: o.bmcUser, passwordFile, policy, bmcLog, agentLog, metrics, libvirtVersion, poll: { minMs: 50, maxMs: 2000 }, reportIntervalMs: o.reportIntervalMs, statePollMs: 5000 });
        sim.#running.push(host);
        sim.hosts.push(host.enrolment);
      }
    } catch (err) {
      await sim.stop();
      throw err;
    }
    return sim;
  }

  /** Each host's latest status report sequence number (what it has sent so far). */
  reportSeqs(): Record<string, number> {
    return Object.fromEntries(this.#running.map((r) => [r.id, r.agent.store.getNumber('report_seq')]));
  }

  async stop(): Promise<void> {
    for (const r of this.#running.splice(0)) {
      await r.agent.stop().catch(() => undefined);
      await r.daemon.stop().catch(() => undefined);
    }
  }
}
