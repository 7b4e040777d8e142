/**
 * Composition of the bmc-oem daemon: config → the service (command table,
 * stores, RMCP+ server; daemon/bmc-service.ts) → the UDP transport and
 * VM-protocol listeners → metrics → logs. `main.ts` only parses argv,
 * installs signal handlers and calls this.
 *
 * BMC resets (Cold Reset / Warm Reset, §20.2-20.3), after the answer went out:
 * - cold: the service is rebuilt. Every RMCP+ session is dropped, the host
 *   connections are dropped (the listening sockets stay), and the stores
 *   reload from the state directory: queues keep their records and epoch
 *   when persisted; without a state directory they start empty under a new
 *   epoch, and peers resynchronise by that epoch (PROTOCOL.md §2).
 * - warm: the host connections are dropped and re-accepted; RMCP+ sessions,
 *   queues and every setting stay as they are.
 * The UDP socket, the login throttle, metrics and the host-power backend
 * outlive both.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { RandomBytes } from '@backchannel/proto';
import type { CommandRegistry } from '../commands/registry.js';
import type { HostPowerBackend } from '../commands/host-power-port.js';
import type { DeviceIdentity } from '../commands/device-identity.js';
import { uuidFromGuid } from '../commands/device-identity.js';
import type { ResetKind } from '../commands/mc-reset-commands.js';
import type { BmcConfig } from '../config/config-types.js';
import { createMetrics, startMetricsServer, type BmcMetrics } from '../metrics.js';
import type { QueueEngine } from '../queues/queue-engine.js';
import { LoginThrottle } from '../rmcp/login-throttle.js';
import type { RmcpServer } from '../rmcp/rmcp-server.js';
import { UdpTransport } from '../rmcp/udp-transport.js';
import { SolService } from '../sol/sol-service.js';
import { createHostPowerBackend } from '../host-power/create-host-power.js';
import { SystemInterface } from '../system-interface/system-interface.js';
import { BmcAudit } from './bmc-audit.js';
import { buildService, type BmcService } from './bmc-service.js';
import { resolveDeviceGuid } from './device-guid.js';
import { applyRestorePolicy, readBootId } from './restore-policy.js';
import { rmcpObserver } from './rmcp-observer.js';

export { LAN_CHANNEL, supportedAlgorithmBytes } from './bmc-service.js';

export interface DaemonOptions {
  config: BmcConfig;
  logger: Logger;
  now?: () => number;
  randomBytes?: RandomBytes;
  /** Overrides the host-power backend (tests, embedding). */
  hostPower?: HostPowerBackend;
  /** The machine's boot id (tests); read from /proc otherwise. */
  bootId?: string;
  /** Called when a reset could not rebuild the service (the daemon cannot go on). */
  onFatal?: (err: unknown) => void;
}

export interface RunningDaemon {
  rmcp: { address: string; port: number };
  /** The VM-protocol listeners' addresses (real ports for tcp:…:0), in --vm-listen order. */
  vmListeners: string[];
  metrics?: { address: string; port: number };
  metricsRegistry: BmcMetrics;
  /** The service now running (a cold reset replaces it). */
  readonly service: BmcService;
  readonly queues: QueueEngine;
  readonly registry: CommandRegistry;
  readonly server: RmcpServer;
  /** Carries out a reset now (what Cold/Warm Reset schedule after their answer). */
  reset(kind: ResetKind): void;
  stop(): Promise<void>;
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  const randomBytes = opts.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n)));
  const closers: (() => Promise<void> | void)[] = [];

  const { guid, source } = resolveDeviceGuid(config.device.guid, config.stateDir, randomBytes);
  logger.info({ guid: uuidFromGuid(guid), source }, 'device GUID');
  const identity: DeviceIdentity = { ...config.device, deviceRevision: 1, manufacturerId: config.iana, guid };
  const hostPower = opts.hostPower ?? createHostPowerBackend(config.hostPower, logger);
  const throttle = new LoginThrottle(config.loginThrottle, now);

  // Late-bound: the service is built below and replaced by cold resets.
  let service: BmcService | undefined;
  let system: SystemInterface | undefined;
  const current = (): BmcService => {
    if (service === undefined) throw new Error('bmc-oem service not built yet');
    return service;
  };
  const metrics = createMetrics(
    () => ({ active: service?.server.sessions.activeCount ?? 0, pending: service?.server.sessions.pendingCount ?? 0 }),
    (q) => service?.queues.depth(q) ?? 0,
    () => service?.sel.entries.length ?? 0,
    () => ({ puts: service?.queues.stats.fencedPuts ?? 0, gets: service?.queues.stats.fencedGets ?? 0 }),
  );
  const audit = new BmcAudit({ sel: () => service?.sel, logger, metrics });
  const events = rmcpObserver(logger, metrics, {
    throttleStarted: (user, src, failures, delayMs) => audit.loginThrottled(user, service?.users.lookup(user)?.id ?? 0, src, failures, delayMs),
  });

  let resetting = false;
  const reset = (kind: ResetKind): void => {
    if (resetting) return;
    resetting = true;
    try {
      metrics.resets.inc({ kind });
      if (kind === 'cold') {
        logger.warn('cold reset: dropping sessions and host connections, reloading the service');
        const old = current();
        old.server.closeAll('reset');
        old.close();
        service = undefined;
        service = buildService(shared);
        transport.replaceServer(service.server);
        system?.reset(service.queues, service.hostState);
        audit.started('cold-reset');
        logger.info({ epochs: [1, 2].map((q) => service?.queues.snapshot(q)?.epoch) }, 'cold reset done');
      } else {
        logger.warn('warm reset: dropping host connections');
        const svc = current();
        system?.reset(svc.queues, svc.hostState);
        audit.started('warm-reset');
      }
    } catch (err) {
      logger.fatal({ err }, 'BMC reset failed');
      if (opts.onFatal) opts.onFatal(err);
      else throw err;
    } finally {
      resetting = false;
    }
  };

  // SOL outlives a cold reset: it reaches the current server and socket through these closures.
  let rmcpPort = 0;
  const sol =
    config.sol === undefined
      ? undefined
      : new SolService({ config: config.sol, now, logger, port: () => rmcpPort, server: () => current().server, sendTo: (d, peer) => transport.sendTo(d, peer) });
  const shared = {
    config,
    logger,
    now,
    randomBytes,
    identity,
    hostPower,
    throttle,
    events,
    audit,
    // After the answer has gone out: the reply is sent in this turn of the event loop.
    requestReset: (kind: ResetKind) => {
      setImmediate(() => reset(kind));
    },
    hostLinkUp: () => system?.hostConnected ?? false,
    onHandlerFault: (name: string, err: unknown) => events.handlerFault(name, err),
    ...(sol === undefined ? {} : { sol }),
  };
  service = buildService(shared);
  closers.push(() => service?.close());

  const transport = new UdpTransport({
    host: config.listen.host,
    port: config.listen.port,
    server: service.server,
    events,
    onError: (err) => logger.warn({ err }, 'UDP socket error'),
  });
  try {
    const rmcp = await transport.start();
    closers.push(() => transport.stop());
    rmcpPort = rmcp.port;
    if (sol !== undefined) {
      sol.start();
      closers.push(() => sol.close());
    }
    const vmListeners: string[] = [];
    if (config.vmListen.length > 0) {
      system = await SystemInterface.open({
        specs: config.vmListen,
        dispatch: (ctx, req) => current().registry.dispatch(ctx, req),
        engine: service.queues,
        state: service.hostState,
        logger,
        socketMode: config.vmSocketMode,
        allowPeers: config.vmAllowPeers,
        onTakeover: (e) => audit.hostLinkTakeover(e.listen, e.remote),
      });
      const opened = system;
      closers.push(() => opened.close());
      vmListeners.push(...opened.listeners.map((l) => l.address));
    }
    let metricsAddress: { address: string; port: number } | undefined;
    if (config.metrics !== undefined) {
      const m = await startMetricsServer(metrics.registry, config.metrics.host, config.metrics.port);
      const httpServer: Server = m.server;
      closers.push(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
      metricsAddress = { address: m.address, port: m.port };
    }
    audit.started('start');
    const restore = await applyRestorePolicy({ chassis: service.chassis, boot: service.boot, backend: hostPower, bootId: opts.bootId ?? readBootId() });
    if (restore === 'powered-on' || restore === 'failed') logger.warn({ restore }, 'power restore policy applied after the machine rebooted');
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
        sol: config.sol?.device.text,
      },
      'listening',
    );
    const running: RunningDaemon = {
      rmcp,
      vmListeners,
      metricsRegistry: metrics,
      get service() {
        return current();
      },
      get queues() {
        return current().queues;
      },
      get registry() {
        return current().registry;
      },
      get server() {
        return current().server;
      },
      reset,
      stop: async () => {
        for (const close of closers.reverse()) await close();
        service?.server.closeAll();
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
