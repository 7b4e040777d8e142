/**
 * Prometheus metrics of the daemon (prom-client, one registry per daemon so
 * tests can run several). The RMCP+ server reports through RmcpEvents; this
 * file turns those into counters and serves /metrics over HTTP.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * How often prom-client's event-loop delay monitor samples (its default is every 10 ms: a timer
 * waking the process 100 times a second, which was most of an idle daemon's CPU — about 10 ms of
 * CPU a second per process here; docs/benchmarks.md "link-cost"). Once a second still catches
 * every stall longer than a second and a share of the shorter ones; the `*_eventloop_lag_seconds`
 * gauge, measured at each scrape, is unchanged.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

export interface BmcMetrics {
  registry: Registry;
  datagramsDropped: Counter<'reason'>;
  requests: Counter<'command' | 'cc'>;
  sessionsEnded: Counter<'reason'>;
  authFailures: Counter;
  /** RAKP 1 refused because the source must wait after failed logins. */
  loginsThrottled: Counter;
  /** Sessions refused at a bound (table, source, user). */
  sessionLimits: Counter<'bound'>;
  /** What cannot be benign: a source throttled, a host link takeover refused, a queue seq reused. */
  securityEvents: Counter<'kind'>;
  resets: Counter<'kind'>;
  handlerFaults: Counter<'command'>;
  sessions: Gauge<'state'>;
  selEntries: Gauge;
  queueDepth: Gauge<'queue'>;
  /** Put/Get Record refused because the session's producer generation was overtaken (docs/bmc-queues.md). */
  fencedRequests: Counter<'command'>;
}

export function createMetrics(
  sessionCounts: () => { active: number; pending: number },
  queueDepth: (queue: number) => number = () => 0,
  selEntries: () => number = () => 0,
  fenced: () => { puts: number; gets: number } = () => ({ puts: 0, gets: 0 }),
): BmcMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bmc_oem_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return {
    registry,
    datagramsDropped: new Counter({
      name: 'bmc_oem_datagrams_dropped_total',
      help: 'RMCP datagrams dropped without an answer, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'bmc_oem_requests_total',
      help: 'IPMI requests answered on the LAN, by command and completion code',
      labelNames: ['command', 'cc'],
      registers: [registry],
    }),
    sessionsEnded: new Counter({
      name: 'bmc_oem_sessions_ended_total',
      help: 'RMCP+ sessions ended, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    authFailures: new Counter({ name: 'bmc_oem_auth_failures_total', help: 'Failed RMCP+ authentication attempts', registers: [registry] }),
    loginsThrottled: new Counter({ name: 'bmc_oem_logins_throttled_total', help: 'RAKP 1 refused because its source must wait after failed logins for that user', registers: [registry] }),
    sessionLimits: new Counter({ name: 'bmc_oem_session_limits_total', help: 'Sessions refused at a bound, by bound (table, source, user)', labelNames: ['bound'], registers: [registry] }),
    securityEvents: new Counter({ name: 'bmc_oem_security_events_total', help: 'Security events (also in the SEL), by kind', labelNames: ['kind'], registers: [registry] }),
    resets: new Counter({ name: 'bmc_oem_resets_total', help: 'BMC cold and warm resets served', labelNames: ['kind'], registers: [registry] }),
    handlerFaults: new Counter({
      name: 'bmc_oem_handler_faults_total',
      help: 'Command handlers that threw (answered with cc 0xFF)',
      labelNames: ['command'],
      registers: [registry],
    }),
    sessions: new Gauge({
      name: 'bmc_oem_sessions',
      help: 'RMCP+ sessions in the table, by state',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const c = sessionCounts();
        this.set({ state: 'active' }, c.active);
        this.set({ state: 'pending' }, c.pending);
      },
    }),
    selEntries: new Gauge({
      name: 'bmc_oem_sel_entries',
      help: 'Entries in the System Event Log',
      registers: [registry],
      collect() {
        this.set(selEntries());
      },
    }),
    fencedRequests: new Counter({
      name: 'bmc_oem_fenced_requests_total',
      help: 'Put Record / Get Record refused with cc 0x81 because the LAN session is bound to an overtaken producer generation (a stale vms-agent replica), by command',
      labelNames: ['command'],
      registers: [registry],
      // The queue engine counts; read at scrape time (a cold reset starts the engine, and the count, again).
      collect() {
        const f = fenced();
        this.reset();
        this.inc({ command: 'put-record' }, f.puts);
        this.inc({ command: 'get-record' }, f.gets);
      },
    }),
    queueDepth: new Gauge({
      name: 'bmc_oem_queue_depth',
      help: 'Records waiting in each OEM buffer queue (1 = to host, 2 = to manager)',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        for (const q of [1, 2]) this.set({ queue: String(q) }, queueDepth(q));
      },
    }),
  };
}

/** Serves GET /metrics on host:port; resolves with the bound address. */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<{ server: Server; address: string; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('metrics server has no TCP address');
  return { server, address: a.address, port: a.port };
}
