/**
 * One simulated host in this process: a bmc-oem daemon on 127.0.0.1 and a
 * hypervisor-agent (libvirt test driver) on its VM-protocol listener. The
 * fleet benchmark and the replica suite start many of them; what differs
 * between the two is the agent's pacing and its loggers.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type createLogger as bmcLogger, loadConfig, type RunningDaemon, startDaemon } from '@backchannel/bmc-oem';
import { Agent, type AgentMetrics, type createLogger as agentLogger, LibvirtAdapter, openTransport, type Policy } from '@backchannel/hypervisor-agent';
import { encodePublicKey, EnvelopeKeys, generateSigningKeyPair } from '@backchannel/proto';
import { LIBVIRT_FIXTURE } from '../vms-agent-e2e/stack.js';

const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));

export interface InProcessHostOptions {
  id: string;
  /** The host's agent state goes to dir/id. */
  dir: string;
  bmcUser: string;
  passwordFile: string;
  policy: Policy;
  bmcLog: ReturnType<typeof bmcLogger>;
  agentLog: ReturnType<typeof agentLogger>;
  metrics: AgentMetrics;
  libvirtVersion: string;
  poll: { minMs: number; maxMs: number };
  reportIntervalMs: number;
  statePollMs: number;
}

export interface InProcessHost {
  id: string;
  daemon: RunningDaemon;
  agent: Agent;
  /** What vms-agent needs to add the host: its BMC port, enrolment seed and host key. */
  enrolment: { id: string; rmcpPort: number; seed: string; hostPublicKey: string };
}

export async function startInProcessHost(o: InProcessHostOptions): Promise<InProcessHost> {
  const loaded = loadConfig(['--listen', '127.0.0.1:0', '--user', `${o.bmcUser}:operator:${o.passwordFile}`, '--vm-listen', 'tcp:127.0.0.1:0', '--log-level', 'warn']);
  if (loaded.kind !== 'run') throw new Error('bmc-oem config did not load');
  const daemon = await startDaemon({ config: loaded.config, logger: o.bmcLog });
  try {
    const vm = daemon.vmListeners[0]?.replace(/^tcp:/, '');
    const seed = randomBytes(32);
    const hostKey = generateSigningKeyPair(randomBytes);
    const stateDir = join(o.dir, o.id);
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const agent = new Agent({
      hostId: o.id,
      keys: new EnvelopeKeys(seed, o.id),
      hostKey,
      policy: () => o.policy,
      libvirt: new LibvirtAdapter({ uri: `test://${LIBVIRT_FIXTURE}`, shutdownTimeoutMs: 10_000 }),
      libvirtVersion: o.libvirtVersion,
      openTransport: () => openTransport(`vm+tcp://${vm}`),
      iana: 32473,
      stateDir,
      poll: o.poll,
      reportIntervalMs: o.reportIntervalMs,
      statePollMs: o.statePollMs,
      retransmit: { initialTimeoutMs: 5_000, maxTimeoutMs: 60_000 },
      ackDelayMs: 200,
      log: o.agentLog,
      metrics: o.metrics,
      randomBytes,
    });
    await agent.start();
    return { id: o.id, daemon, agent, enrolment: { id: o.id, rmcpPort: daemon.rmcp.port, seed: Buffer.from(seed).toString('base64'), hostPublicKey: encodePublicKey(hostKey.publicKey) } };
  } catch (err) {
    await daemon.stop().catch(() => undefined);
    throw err;
  }
}
