#!/usr/bin/env node
/**
 * hypervisor-agent entry point: parses the command line, reads config and key
 * files, opens sockets and installs signal handlers. Everything below it takes
 * its dependencies as parameters.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { EnvelopeKeys } from '@backchannel/proto';
import { Agent, AGENT_VERSION } from './agent/agent.js';
import { EXIT, exitCodeFor, UsageError } from './cli/exit-codes.js';
import { enroll, readBundle } from './cli/enroll.js';
import { HELP } from './cli/help.js';
import { keygen } from './cli/keygen.js';
import { type AgentConfig, loadAgentConfig } from './config/agent-config.js';
import { isTooOpen, readHostKeyFile, readSeedFile } from './config/secrets.js';
import { LibvirtAdapter } from './libvirt/libvirt-adapter.js';
import { libvirtLibraryVersion } from './libvirt/libvirt-version.js';
import { cutMemoryReducer } from './memory-reducer.js';
import { createLogger } from './observability/logger.js';
import { AgentMetrics } from './observability/metrics.js';
import { loadPolicyFile, type Policy } from './policy/policy.js';
import { openTransport } from './transport/open-transport.js';

const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));

function parseAddress(text: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port < 0 || port > 65535) throw new UsageError(`--metrics must be HOST:PORT, got "${text}"`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

async function runDaemon(config: AgentConfig, metricsAddress: string | undefined): Promise<void> {
  cutMemoryReducer(); // before the first libvirt worker starts
  const log = createLogger(config.logLevel);
  const seed = readSeedFile(config.seedFile);
  const hostKey = readHostKeyFile(config.hostKeyFile);
  for (const file of [config.seedFile, config.hostKeyFile]) if (isTooOpen(file)) log.warn({ file }, 'secret file is readable by group/others; chmod 600 it');
  let policy: Policy = loadPolicyFile(config.policyFile);
  mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  const metrics = new AgentMetrics({ defaultMetrics: true });
  const libvirt = new LibvirtAdapter({ uri: config.libvirtUri, shutdownTimeoutMs: config.shutdownTimeoutSeconds * 1000 });
  const faultDelay = Number(process.env.BACKCHANNEL_FAULT_DELAY_BEFORE_COMMIT_MS ?? 0);
  const agent = new Agent({
    hostId: config.hostId,
    keys: new EnvelopeKeys(seed, config.hostId, config.envelope),
    hostKey,
    policy: () => policy,
    libvirt,
    libvirtVersion: libvirtLibraryVersion(),
    openTransport: () => openTransport(config.link),
    iana: config.iana,
    stateDir: config.stateDir,
    poll: config.poll,
    reportIntervalMs: config.reportIntervalSeconds * 1000,
    statePollMs: config.statePollSeconds * 1000,
    retransmit: { initialTimeoutMs: config.retransmit.initialMs, maxTimeoutMs: config.retransmit.maxMs },
    ackDelayMs: config.ackDelayMs,
    log,
    metrics,
    randomBytes,
    ...(faultDelay > 0 ? { delayBeforeCommitMs: faultDelay } : {}),
  });
  if (faultDelay > 0) log.warn({ faultDelay }, 'fault injection enabled: pausing before each queue commit');

  let server: Server | undefined;
  if (metricsAddress) {
    const { host, port } = parseAddress(metricsAddress);
    server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    await new Promise<void>((resolve, reject) => server?.once('error', reject).listen(port, host, resolve));
    const address = server.address();
    log.info({ metrics: typeof address === 'object' && address ? `${address.address}:${address.port}` : metricsAddress }, 'metrics listening');
  }

  process.on('SIGHUP', () => {
    try {
      policy = loadPolicyFile(config.policyFile);
      log.info({ file: config.policyFile }, 'policy reloaded');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'policy reload failed; keeping the previous policy');
    }
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(EXIT.failed), 10_000);
    force.unref();
    void (async () => {
      await agent.stop();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      log.flush?.();
      process.exit(EXIT.ok);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await agent.start();
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      metrics: { type: 'string' },
      force: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  const needConfig = (): AgentConfig => {
    if (!values.config) throw new UsageError('--config FILE is required (see --help)');
    return loadAgentConfig(values.config);
  };
  switch (command) {
    case undefined:
      await runDaemon(needConfig(), values.metrics);
      return -1; // keep running
    case 'enroll': {
      if (rest.length !== 1) throw new UsageError('usage: hypervisor-agent enroll BUNDLE --config agent.json');
      const written = enroll(needConfig(), readBundle(rest[0] as string), { force: values.force ?? false });
      process.stdout.write(`enrolled; wrote ${written.join(', ')} (mode 0600)\n`);
      return 0;
    }
    case 'keygen': {
      const path = values.out ?? needConfig().hostKeyFile;
      const { publicKey, keyId } = keygen(path, randomBytes, { force: values.force ?? false });
      process.stdout.write(`${publicKey}\n`);
      process.stderr.write(`host key ${keyId} written to ${path} (mode 0600)\n`);
      return 0;
    }
    case 'check-config': {
      const config = needConfig();
      readSeedFile(config.seedFile);
      readHostKeyFile(config.hostKeyFile);
      loadPolicyFile(config.policyFile);
      process.stdout.write('config, seed, host key and policy are valid\n');
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}" (see --help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: Error) => {
    process.stderr.write(`hypervisor-agent: ${err.message}\n`);
    process.exit(exitCodeFor(err));
  },
);
