/**
 * `vms-agent serve`: the store, the links to every BMC, and the API, in one
 * process. Binds 127.0.0.1 unless --listen says otherwise. SIGINT/SIGTERM
 * stop the API, then the links, then close the store; a stop that overruns
 * the grace period (or a second signal) exits at once with 1 (cli/shutdown.ts).
 *
 * On a PostgreSQL store several replicas may run: each drives only the
 * host links whose lease it holds (link/lease-keeper.ts), and is woken by
 * the others' NOTIFY when they queue a message for one of its hosts.
 * On a SQLite store only one may run (store-owner-lock.ts).
 *
 * Start-up order: the store's owner lock, the store, the API bound to its
 * port, and only then the links: a serve that cannot own the store or its
 * port exits (non-zero, one clear line) without ever talking to a BMC.
 */
import { hostname } from 'node:os';
import { AlertDeliverer } from '../alerts/deliverer.js';
import { hasDeliveryStore } from '../alerts/delivery-store.js';
import { openSinks } from '../alerts/open-sinks.js';
import { buildApp } from '../api/app.js';
import { EventBus, observeStore } from '../api/routes/events-bus.js';
import { isLoopbackHost, loadTlsFiles, type TlsFiles } from '../api/tls.js';
import { ServiceMetrics } from '../api/metrics.js';
import { CommandService } from '../commands/command-service.js';
import { serviceKeyPair } from '../keys/service-key.js';
import type { BmcConnector } from '../link/bmc-session.js';
import { LinkManager } from '../link/link-manager.js';
import { rmcpConnectorWith } from '../link/rmcp-connector.js';
import { solConnectorWith, transportConnector } from '../rmcp/sol-connector.js';
import { LeaseKeeper } from '../link/lease-keeper.js';
import { isLinkLeases } from '../store/link-leases.js';
import { PostgresStore } from '../store/postgres-store.js';
import { COMMAND_CHANNEL, WAKE_CHANNEL } from '../store/postgres-apply.js';
import type { LinkHealth } from '../api/views.js';
import { encodeHealthNotice, LINK_HEALTH_CHANNEL, SharedLinkHealth } from '../replicas/shared-link-health.js';
import { LEASES_CHANNEL } from '../store/postgres-leases.js';
import { parse } from './args.js';
import { CliError, EXIT, usage } from './cli-error.js';
import { isPostgresUrl, openLocalStore, redactDb, systemRandom } from './local-store.js';
import { createLogger } from './logger.js';
import { stopSignal } from './shutdown.js';
import { StoreOwnerLock } from './store-owner-lock.js';
import { VERSION } from '../version.js';
import { cutMemoryReducer } from '../memory-reducer.js';

/** One health notice to every replica. A lost one is not retried: the next change or refresh (HealthPublisher, within seconds) sends the health again. */
function publishHealth(store: PostgresStore, owner: string, hostId: string, health: LinkHealth): void {
  const notice = encodeHealthNotice({ host: hostId, owner, health });
  if (notice) void store.notify(LINK_HEALTH_CHANNEL, notice).catch(() => undefined);
}

export async function serve(argv: string[], options: { connector?: BmcConnector } = {}): Promise<number> {
  const p = parse(argv, { listen: { type: 'string' }, 'no-links': { type: 'boolean' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } });
  const config = p.config();
  cutMemoryReducer();
  const logger = createLogger(config.logLevel);
  // Before the store opens: a bad certificate is a start-up error, not a half-started service.
  let tls: TlsFiles | undefined;
  if (config.tlsCertFile || config.tlsKeyFile) {
    if (!config.tlsCertFile || !config.tlsKeyFile) throw usage('TLS needs both --tls-cert FILE and --tls-key FILE (or tlsCertFile and tlsKeyFile in the config file)');
    try {
      tls = loadTlsFiles(config.tlsCertFile, config.tlsKeyFile);
    } catch (err) {
      throw new CliError(EXIT.usage, 'BAD_TLS_FILES', (err as Error).message);
    }
    if (tls.keyModeWarning) logger.warn(tls.keyModeWarning);
  } else if (!isLoopbackHost(config.listenHost)) {
    logger.warn({ listen: config.listenHost }, 'the API listens beyond the loopback interface without TLS: bearer tokens cross the network in clear; give --tls-cert and --tls-key');
  }
  const lock = isPostgresUrl(config.db) || config.db === ':memory:' ? undefined : StoreOwnerLock.acquire(config.db);
  let opened;
  try {
    opened = await openLocalStore(config, { onError: (err) => logger.warn({ err: err.message }, 'idle database connection failed') });
  } catch (err) {
    lock?.release();
    throw err;
  }
  // Every part uses the store through observeStore, which tells the console's event stream (and the deliverer) what changed.
  const events = new EventBus();
  const store = observeStore(opened, events);
  const clock = () => Date.now();
  const leases = isLinkLeases(store)
    ? new LeaseKeeper({ leases: store, owner: `${hostname()}:${process.pid}:${Buffer.from(systemRandom(4)).toString('hex')}`, ttlMs: config.linkLeaseMs, clock })
    : undefined;
  const metrics = new ServiceMetrics({ defaultMetrics: true });
  // Alert sinks are opened (their files read) before anything starts: a bad one is a start-up error.
  let alertDelivery: AlertDeliverer | undefined;
  if (config.alertSinks.length > 0 && hasDeliveryStore(store)) {
    try {
      alertDelivery = new AlertDeliverer({ store: store.deliveries(), sinks: openSinks(config.alertSinks, clock), clock, random: Math.random, logger, registry: metrics.registry });
      const deliverer = alertDelivery;
      events.subscribe((e) => {
        if (e.type === 'alert' && !e.alert.acknowledged) deliverer.wake();
      });
    } catch (err) {
      await store.close();
      lock?.release();
      throw new CliError(EXIT.usage, 'BAD_ALERT_SINK', (err as Error).message);
    }
  }
  let links: LinkManager | undefined;
  const commands = new CommandService({ store, clock, randomBytes: systemRandom, serviceKey: config.serviceKeySignsRequests ? await serviceKeyPair(store, systemRandom) : undefined, custodialKeySignsRequests: config.custodialKeySignsRequests, wake: (h) => links?.wake(h) });
  if (!p.values['no-links']) {
    links = new LinkManager({
      store,
      commands,
      connector:
        options.connector ??
        transportConnector({
          oem: rmcpConnectorWith({ timeoutMs: config.rmcpTimeoutMs, retries: config.rmcpRetries }),
          sol: solConnectorWith({ timeoutMs: config.rmcpTimeoutMs, retries: config.rmcpRetries }),
          solHosts: new Set(Object.entries(config.hostTransports).flatMap(([id, t]) => (t === 'sol' ? [id] : []))),
        }),
      clock,
      randomBytes: systemRandom,
      random: Math.random,
      metrics,
      logger,
      agentVersion: VERSION,
      tuning: { pollMinMs: config.pollMinMs, pollMaxMs: config.pollMaxMs, keys: { stepSeconds: config.stepSeconds, skewSteps: config.skewSteps } },
      ...(leases ? { leases } : {}),
      // Every replica answers with the owner's view of a link (replicas/shared-link-health.ts).
      ...(leases && store instanceof PostgresStore ? { publishHealth: (hostId: string, health: LinkHealth) => publishHealth(store as PostgresStore, leases.owner, hostId, health) } : {}),
    });
  }
  const shared = store instanceof PostgresStore ? new SharedLinkHealth(clock) : undefined;
  const linkHealth = links || shared ? (h: string) => links?.health(h) ?? shared?.get(h) : undefined;
  const app = await buildApp({ store, commands, metrics, clock, logger, events, ...(alertDelivery ? { alertDelivery } : {}), ...(linkHealth ? { linkHealth } : {}), ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}) });
  let address: string;
  try {
    address = await app.listen({ host: config.listenHost, port: config.listenPort });
  } catch (err) {
    // No link was started: nothing but the store and the lock to let go of.
    await app.close().catch(() => undefined);
    await store.close();
    lock?.release();
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? 'the port is in use (another vms-agent serve, or another program)' : e.message;
    throw new CliError(EXIT.failed, 'LISTEN_FAILED', `cannot listen on ${config.listenHost}:${config.listenPort}: ${why}; no BMC link was started`);
  }
  // Another replica queued something for a host whose link runs here: send it now rather than at the next poll.
  // Another replica released link leases or left: take our share now rather than at the next heartbeat.
  // Another replica changed a command: long-polls here answer now. Another replica's link health: shown here.
  const wakes =
    store instanceof PostgresStore
      ? await store.listen(
          {
            [WAKE_CHANNEL]: (h) => h && links?.wake(h),
            [LEASES_CHANNEL]: () => links?.rebalanceSoon(),
            [COMMAND_CHANNEL]: (id) => id && commands.notifyCommand(id),
            [LINK_HEALTH_CHANNEL]: (notice) => shared?.accept(notice),
          },
          {
            onError: (err) => logger.warn({ err: err.message }, 'replica notifications lost; reconnecting (links still poll, leases move at the next heartbeat)'),
            onReconnect: () => links?.rebalanceSoon(),
          },
        )
      : undefined;
  // Before the links: a new sink starts at the outbox's end, and the first alert a link stores must be past it.
  await alertDelivery?.start();
  await links?.start();
  logger.info({ address, tls: !!tls, db: redactDb(config.db), links: !!links, ...(leases ? { replica: leases.owner } : {}) }, 'vms-agent serving');
  if (alertDelivery) logger.info({ sinks: alertDelivery.sinkNames }, 'delivering alerts');
  await stopSignal({
    graceMs: config.shutdownGraceMs,
    onSignal: (signal) => logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down'),
    onForced: (reason) => logger.error({ reason }, 'forced exit: graceful shutdown did not finish'),
  });
  await app.close();
  await links?.stop();
  await alertDelivery?.stop();
  await wakes?.close();
  await store.close();
  lock?.release();
  return EXIT.ok;
}
