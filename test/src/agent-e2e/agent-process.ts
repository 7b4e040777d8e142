/**
 * Starts the real hypervisor-agent (its built bin) against a bmc-oem VM-protocol
 * listener and the libvirt test driver, with a fresh seed, host key and policy
 * in a temporary directory. The agent keeps its state there too, so the
 * directory goes only after the agent has stopped (`stopAgentRun`).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePublicKey, encodeSecretKey, generateSigningKeyPair, type SigningKeyPair } from '@backchannel/proto';
import { ManagedProcess } from '../harness/managed-process.js';

export const AGENT_MAIN = fileURLToPath(new URL('../../../hypervisor-agent/dist/main.js', import.meta.url));
export const LIBVIRT_FIXTURE = fileURLToPath(new URL('../../../hypervisor-agent/test/fixtures/node.xml', import.meta.url));

export const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export interface AgentSetup {
  dir: string;
  configPath: string;
  hostId: string;
  seed: Uint8Array;
  hostKey: SigningKeyPair;
  principals: Record<'alice' | 'bob' | 'carol' | 'mallory', SigningKeyPair>;
}

export function prepareAgent(vmPort: number, hostId = 'hv-e2e'): AgentSetup {
  const dir = mkdtempSync(join(tmpdir(), 'hv-agent-e2e-'));
  const seed = rnd(32);
  const hostKey = generateSigningKeyPair(rnd);
  const principals = { alice: generateSigningKeyPair(rnd), bob: generateSigningKeyPair(rnd), carol: generateSigningKeyPair(rnd), mallory: generateSigningKeyPair(rnd) };
  const secret = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    chmodSync(join(dir, name), 0o600);
  };
  secret('seed', `${Buffer.from(seed).toString('base64')}\n`);
  secret('host.key', `${encodeSecretKey(hostKey)}\n`);
  secret(
    'policy.json',
    JSON.stringify({
      version: 1,
      principals: {
        alice: { publicKeys: [encodePublicKey(principals.alice.publicKey)], roles: ['operator', 'viewer'] },
        bob: { publicKeys: [encodePublicKey(principals.bob.publicKey)], roles: ['admin'] },
        carol: { publicKeys: [encodePublicKey(principals.carol.publicKey)], roles: ['admin'] },
      },
      roles: {
        operator: { actions: ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume'], domains: ['web-*'] },
        viewer: { actions: ['list_domains', 'domain_info'], domains: ['*'] },
        admin: { actions: ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume', 'list_domains', 'domain_info'], domains: ['*'] },
      },
      approvals: [{ actions: ['destroy', 'reset'], domains: ['db-*'], required: 2, approvers: ['alice', 'bob', 'carol'] }],
      challengeTtlSeconds: 5,
    }),
  );
  writeFileSync(
    join(dir, 'agent.json'),
    JSON.stringify({
      hostId,
      link: `vm+tcp://127.0.0.1:${vmPort}`,
      libvirtUri: `test://${LIBVIRT_FIXTURE}`,
      seedFile: 'seed',
      hostKeyFile: 'host.key',
      policyFile: 'policy.json',
      stateDir: 'state',
      // A high ceiling: an idle agent only reacts quickly because ATN wakes it.
      poll: { minMs: 20, maxMs: 3000 },
      reportIntervalSeconds: 2,
      statePollSeconds: 0.5,
      shutdownTimeoutSeconds: 5,
      retransmit: { initialMs: 3000, maxMs: 10000 },
      ackDelayMs: 50,
      logLevel: 'debug',
    }),
  );
  return { dir, configPath: join(dir, 'agent.json'), hostId, seed, hostKey, principals };
}

export async function startAgent(setup: AgentSetup, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name: 'hypervisor-agent',
    command: process.execPath,
    args: [AGENT_MAIN, '--config', setup.configPath, ...extraArgs],
    env: { ...process.env, ...env },
    readyWhen: /BMC link up/,
    readyTimeoutMs: 20_000,
  });
}

/** Stops the agent and its bmc-oem, then removes the agent's directory (it writes there until stopped), even if a stop fails. */
export async function stopAgentRun(run: { agent?: ManagedProcess | undefined; bmc?: { stop(): Promise<unknown> } | undefined; setup?: AgentSetup | undefined }): Promise<void> {
  try {
    await run.agent?.stop();
    await run.bmc?.stop();
  } finally {
    if (run.setup) rmSync(run.setup.dir, { recursive: true, force: true });
  }
}
