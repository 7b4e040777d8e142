/**
 * Many simulated hypervisor hosts in one process, for the fleet benchmark:
 * for each host a real bmc-oem daemon (startDaemon: RMCP+ on its own UDP
 * port, VM protocol on its own TCP port, in-memory queues) and a real
 * hypervisor-agent `Agent` (its own SQLite state, its own libvirt test-driver
 * connection on the 3-domain fixture) linked to it over the VM protocol.
 * Only the process is shared; every host has its own keys, seed and state.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger as bmcLogger, loadConfig, type RunningDaemon, startDaemon } from '@backchannel/bmc-oem';
import { Agent, AgentMetrics, compilePolicy, createLogger as agentLogger, LibvirtAdapter, libvirtLibraryVersion, openTransport, type Policy } from '@backchannel/hypervisor-agent';
import { encodePublicKey, EnvelopeKeys, generateSigningKeyPair } from '@backchannel/proto';
import { LIBVIRT_FIXTURE } from '../vms-agent-e2e/stack.js';

const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));

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
        const loaded = loadConfig(['--listen', '127.0.0.1:0', '--user', `${o.bmcUser}:operator:${passwordFile}`, '--vm-listen', 'tcp:127.0.0.1:0', '--log-level', 'warn']);
        if (loaded.kind !== 'run') throw new Error('bmc-oem config did not load');
        const daemon = await startDaemon({ config: loaded.config, logger: bmcLog });
        const vm = daemon.vmListeners[0]?.replace(/^tcp:/, '');
        const seed = randomBytes(32);
        const hostKey = generateSigningKeyPair(randomBytes);
        const stateDir = join(o.dir, id);
        mkdirSync(stateDir, { recursive: true, mode: 0o700 });
        const agent = new Agent({
          hostId: id,
          keys: new EnvelopeKeys(seed, id),
          hostKey,
          policy: () => policy,
          libvirt: new LibvirtAdapter({ uri: `test://${LIBVIRT_FIXTURE}`, shutdownTimeoutMs: 10_000 }),
          libvirtVersion,
          openTransport: () => openTransport(`vm+tcp://${vm}`),
          iana: 32473,
          stateDir,
          poll: { minMs: 50, maxMs: 2000 },
          reportIntervalMs: o.reportIntervalMs,
          statePollMs: 5000,
          retransmit: { initialTimeoutMs: 5000, maxTimeoutMs: 60_000 },
          ackDelayMs: 200,
          log: agentLog,
          metrics,
          randomBytes,
        });
        await agent.start();
        sim.#running.push({ id, daemon, agent });
        sim.hosts.push({ id, rmcpPort: daemon.rmcp.port, seed: Buffer.from(seed).toString('base64'), hostPublicKey: encodePublicKey(hostKey.publicKey) });
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
