/**
 * Composition of the bmc-oem daemon: config → command table (standard
 * commands, OEM queues, system-interface App commands) → RMCP+ server on
 * UDP and VM-protocol listeners → metrics → logs. `main.ts` only parses
 * argv, installs signal handlers and calls this.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import {
  encodeCipherSuiteRecords,
  standardCipherSuiteRecord,
  type RandomBytes,
} from '@backchannel/proto';
import { CommandRegistry } from '../commands/registry.js';
import { registerStandardCommands } from '../commands/standard-commands.js';
import type { HostPowerBackend } from '../commands/host-power-port.js';
import type { DeviceIdentity } from '../commands/device-identity.js';
import { uuidFromGuid } from '../commands/device-identity.js';
import type { BmcConfig } from '../config/config-types.js';
import { createMetrics, startMetricsServer, type BmcMetrics } from '../metrics.js';
import { RmcpServer } from '../rmcp/rmcp-server.js';
import { UdpTransport } from '../rmcp/udp-transport.js';
import { createHostPowerBackend } from '../host-power/create-host-power.js';
import { FileQueueStore } from '../queues/file-queue-store.js';
import { QueueEngine } from '../queues/queue-engine.js';
import { registerQueueCommands } from '../queues/register-queue-commands.js';
import { HostInterfaceState } from '../system-interface/host-interface-state.js';
import { registerSystemInterfaceCommands } from '../system-interface/kcs-commands.js';
import { SystemInterface } from '../system-interface/system-interface.js';
import { resolveDeviceGuid } from './device-guid.js';
import { rmcpObserver } from './rmcp-observer.js';

/** The LAN channel number reported by Get Channel Authentication Capabilities and Cipher Suites. */
export const LAN_CHANNEL = 1;

export interface DaemonOptions {
  config: BmcConfig;
  logger: Logger;
  now?: () => number;
  randomBytes?: RandomBytes;
  /** Overrides the host-power backend (tests, embedding). */
  hostPower?: HostPowerBackend;
}

export interface RunningDaemon {
  rmcp: { address: string; port: number };
  /** The VM-protocol listeners' addresses (real ports for tcp:…:0), in --vm-listen order. */
  vmListeners: string[];
  queues: QueueEngine;
  metrics?: { address: string; port: number };
  registry: CommandRegistry;
  server: RmcpServer;
  metricsRegistry: BmcMetrics;
  stop(): Promise<void>;
}

/** The tagged algorithm bytes of the enabled suites, for Get Channel Cipher Suites "list algorithms". */
export function supportedAlgorithmBytes(records: Uint8Array): Uint8Array {
  const seen: number[] = [];
  for (const b of records) {
    // Record starts (0xC0/0xC1) and suite ids are not algorithm tags.
    if ((b & 0xc0) === 0xc0) continue;
    if (!seen.includes(b)) seen.push(b);
  }
  return Uint8Array.from(seen);
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  const randomBytes = opts.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n)));
  const closers: (() => Promise<void> | void)[] = [];

  const { guid, source } = resolveDeviceGuid(config.device.guid, config.stateDir, randomBytes);
  logger.info({ guid: uuidFromGuid(guid), source }, 'device GUID');
  const identity: DeviceIdentity = { ...config.device, deviceRevision: 1, manufacturerId: config.iana, guid };

  const registry = new CommandRegistry();
  const hostPower = opts.hostPower ?? createHostPowerBackend(config.hostPower, logger);
  const suiteRecords = encodeCipherSuiteRecords(config.cipherSuites.map((id) => standardCipherSuiteRecord(id)));
  registerStandardCommands(registry, {
    identity,
    hostPower,
    lanChannel: LAN_CHANNEL,
    cipherSuiteRecords: suiteRecords,
    supportedAlgorithms: supportedAlgorithmBytes(suiteRecords),
    // Late-bound: the server is built below, and Close Session only runs once it exists.
    closeSession: (id) => server.closeSessionById(id),
  });


  const counts = (): { active: number; pending: number } => ({ active: server.sessions.activeCount, pending: server.sessions.pendingCount });
  // The OEM buffer queues (PROTOCOL.md §2), durable when a state directory is configured.
  const store = config.stateDir === undefined ? undefined : new FileQueueStore({ stateDir: config.stateDir, logger });
  if (store !== undefined) closers.push(() => store.close());
  const queues = new QueueEngine({
    iana: config.iana,
    capacityBytes: config.queueCapacity,
    maxRecord: config.maxRecord,
    randomBytes,
    ...(store === undefined ? {} : { store }),
    logger,
  });
  registerQueueCommands(registry, queues);
  const hostState = new HostInterfaceState(queues);
  registerSystemInterfaceCommands(registry, hostState);

  const metrics = createMetrics(counts, (q) => queues.depth(q));
  const events = rmcpObserver(logger, metrics);
  registry.onHandlerFault((name, err) => events.handlerFault(name, err));

  const server = new RmcpServer({
    registry,
    users: config.users,
    cipherSuites: config.cipherSuites,
    sessions: config.sessions,
    lockout: config.lockout,
    guid,
    now,
    randomBytes,
    events,
  });
  const transport = new UdpTransport({
    host: config.listen.host,
    port: config.listen.port,
    server,
    events,
    onError: (err) => logger.warn({ err }, 'UDP socket error'),
  });
  try {
    const rmcp = await transport.start();
    closers.push(() => transport.stop());
    const vmListeners: string[] = [];
    if (config.vmListen.length > 0) {
      const system = await SystemInterface.open({
        specs: config.vmListen,
        dispatch: (ctx, req) => registry.dispatch(ctx, req),
        engine: queues,
        state: hostState,
        logger,
      });
      closers.push(() => system.close());
      vmListeners.push(...system.listeners.map((l) => l.address));
    }
    let metricsAddress: { address: string; port: number } | undefined;
    if (config.metrics !== undefined) {
      const m = await startMetricsServer(metrics.registry, config.metrics.host, config.metrics.port);
      const httpServer: Server = m.server;
      closers.push(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
      metricsAddress = { address: m.address, port: m.port };
    }
    // The "listening" line carries the real ports (for port 0) that scripts
    // and tests read, so it is written at any level except silent.
    const lifecycle = logger.level === 'silent' || logger.isLevelEnabled('info') ? logger : logger.child({}, { level: 'info' });
    lifecycle.info(
      {
        rmcp: `${rmcp.address}:${rmcp.port}`,
        vm: vmListeners,
        stateDir: config.stateDir,
        metrics: metricsAddress && `${metricsAddress.address}:${metricsAddress.port}`,
        suites: config.cipherSuites,
        users: config.users.map((u) => `${u.name}:${u.privilegeName}`),
        hostPower: hostPower.kind,
      },
      'listening',
    );
    const running: RunningDaemon = {
      rmcp,
      vmListeners,
      queues,
      registry,
      server,
      metricsRegistry: metrics,
      stop: async () => {
        for (const close of closers.reverse()) await close();
        server.closeAll();
        logger.info('stopped');
      },
    };
    if (metricsAddress) running.metrics = metricsAddress;
    return running;
  } catch (err) {
    for (const close of closers.reverse()) await close();
    throw err;
  }
}
