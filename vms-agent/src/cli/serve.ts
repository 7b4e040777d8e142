/**
 * `vms-agent serve`: the store, the links to every BMC, and the API, in one
 * process. Binds 127.0.0.1 unless --listen says otherwise. SIGINT/SIGTERM
 * stop the API, then the links, then close the store; a stop that overruns
 * the grace period (or a second signal) exits at once with 1 (cli/shutdown.ts).
 *
 * On a PostgreSQL store several replicas may run: each drives only the
 * host links whose lease it holds (link/lease-keeper.ts), and is woken by
 * the others' NOTIFY when they queue a message for one of its hosts.
 */
import { hostname } from 'node:os';
import { buildApp } from '../api/app.js';
import { ServiceMetrics } from '../api/metrics.js';
import { CommandService } from '../commands/command-service.js';
import { serviceKeyPair } from '../keys/service-key.js';
import type { BmcConnector } from '../link/bmc-session.js';
import { LinkManager } from '../link/link-manager.js';
import { rmcpConnectorWith } from '../link/rmcp-connector.js';
import { LeaseKeeper } from '../link/lease-keeper.js';
import { isLinkLeases } from '../store/link-leases.js';
import { PostgresStore } from '../store/postgres-store.js';
import { parse } from './args.js';
import { EXIT } from './cli-error.js';
import { openLocalStore, redactDb, systemRandom } from './local-store.js';
import { createLogger } from './logger.js';
import { stopSignal } from './shutdown.js';
import { VERSION } from '../version.js';

export async function serve(argv: string[], options: { connector?: BmcConnector } = {}): Promise<number> {
  const p = parse(argv, { listen: { type: 'string' }, 'no-links': { type: 'boolean' } });
  const config = p.config();
  const logger = createLogger(config.logLevel);
  const store = await openLocalStore(config, { onError: (err) => logger.warn({ err: err.message }, 'idle database connection failed') });
  const clock = () => Date.now();
  const leases = isLinkLeases(store)
    ? new LeaseKeeper({ leases: store, owner: `${hostname()}:${process.pid}:${Buffer.from(systemRandom(4)).toString('hex')}`, ttlMs: config.linkLeaseMs, clock })
    : undefined;
  const metrics = new ServiceMetrics({ defaultMetrics: true });
  let links: LinkManager | undefined;
  const commands = new CommandService({ store, clock, randomBytes: systemRandom, serviceKey: config.serviceKeySignsRequests ? await serviceKeyPair(store, systemRandom) : undefined, custodialKeySignsRequests: config.custodialKeySignsRequests, wake: (h) => links?.wake(h) });
  if (!p.values['no-links']) {
    links = new LinkManager({
      store,
      commands,
      connector: options.connector ?? rmcpConnectorWith({ timeoutMs: config.rmcpTimeoutMs, retries: config.rmcpRetries }),
      clock,
      randomBytes: systemRandom,
      random: Math.random,
      metrics,
      logger,
      agentVersion: VERSION,
      tuning: { pollMinMs: config.pollMinMs, pollMaxMs: config.pollMaxMs, keys: { stepSeconds: config.stepSeconds, skewSteps: config.skewSteps } },
      ...(leases ? { leases } : {}),
    });
  }
  // Another replica queued something for a host whose link runs here: send it now rather than at the next poll.
  const wakes =
    links && store instanceof PostgresStore
      ? await store.listenForWakes((h) => links?.wake(h), { onError: (err) => logger.warn({ err: err.message }, 'wake notifications lost; reconnecting (links still poll)') })
      : undefined;
  const app = await buildApp({ store, commands, metrics, clock, logger, ...(links ? { linkHealth: (h: string) => links?.health(h) } : {}) });
  await links?.start();
  const address = await app.listen({ host: config.listenHost, port: config.listenPort });
  logger.info({ address, db: redactDb(config.db), links: !!links, ...(leases ? { replica: leases.owner } : {}) }, 'vms-agent serving');
  await stopSignal({
    graceMs: config.shutdownGraceMs,
    onSignal: (signal) => logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down'),
    onForced: (reason) => logger.error({ reason }, 'forced exit: graceful shutdown did not finish'),
  });
  await app.close();
  await links?.stop();
  await wakes?.close();
  await store.close();
  return EXIT.ok;
}
