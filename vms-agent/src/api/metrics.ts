/** Prometheus metrics of the service, on a registry of its own (tests build many apps). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/**
 * How often prom-client's event-loop delay monitor samples (its default is every 10 ms: a timer
 * waking the process 100 times a second, which was most of an idle daemon's CPU — about 10 ms of
 * CPU a second per process here; docs/benchmarks.md "link-cost"). Once a second still catches
 * every stall longer than a second and a share of the shorter ones; the `*_eventloop_lag_seconds`
 * gauge, measured at each scrape, is unchanged.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

export class ServiceMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  readonly commandsIssued: Counter<'action'>;
  readonly commandsFinal: Counter<'state'>;
  readonly alertsReceived: Counter<'kind' | 'signature'>;
  readonly linkUp: Gauge<'host'>;
  readonly recordsPut: Counter<'host'>;
  readonly recordsGot: Counter<'host'>;
  readonly retransmissions: Counter<'host'>;
  readonly inboundRejected: Counter<'host' | 'code'>;
  readonly queueFull: Counter<'host'>;
  readonly reconnects: Counter<'host'>;
  readonly clockOffset: Gauge<'host'>;
  readonly foreignPuts: Counter<'host'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = new Registry())];
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    this.httpRequests = new Counter({ name: 'vms_agent_http_requests_total', help: 'API requests', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({ name: 'vms_agent_http_request_seconds', help: 'API request duration', labelNames: ['route'], registers, buckets: [0.005, 0.02, 0.1, 0.5, 2] });
    this.commandsIssued = new Counter({ name: 'vms_agent_commands_issued_total', help: 'Commands accepted at the API', labelNames: ['action'], registers });
    this.commandsFinal = new Counter({ name: 'vms_agent_commands_final_total', help: 'Commands that reached a final state', labelNames: ['state'], registers });
    this.alertsReceived = new Counter({ name: 'vms_agent_alerts_received_total', help: 'Security alerts received from hosts', labelNames: ['kind', 'signature'], registers });
    this.linkUp = new Gauge({ name: 'vms_agent_link_up', help: '1 while the RMCP+ session to the host BMC is up', labelNames: ['host'], registers });
    this.recordsPut = new Counter({ name: 'vms_agent_records_put_total', help: 'Records put on queue 1', labelNames: ['host'], registers });
    this.recordsGot = new Counter({ name: 'vms_agent_records_got_total', help: 'Records read from queue 2', labelNames: ['host'], registers });
    this.retransmissions = new Counter({ name: 'vms_agent_retransmissions_total', help: 'Envelopes sent again', labelNames: ['host'], registers });
    this.inboundRejected = new Counter({ name: 'vms_agent_inbound_rejected_total', help: 'Records or envelopes dropped', labelNames: ['host', 'code'], registers });
    this.queueFull = new Counter({ name: 'vms_agent_queue_full_total', help: 'Put Record answered 0xC4 (queue full)', labelNames: ['host'], registers });
    this.reconnects = new Counter({ name: 'vms_agent_reconnects_total', help: 'RMCP+ sessions opened again after a failure', labelNames: ['host'], registers });
    this.clockOffset = new Gauge({ name: 'vms_agent_link_clock_offset_seconds', help: "The hypervisor's clock minus the manager's, learned through the channel", labelNames: ['host'], registers });
    this.foreignPuts = new Counter({ name: 'vms_agent_foreign_producer_total', help: 'Put Record answers showing records on queue 1 that this link did not put', labelNames: ['host'], registers });
  }

  /** Every series labelled with a host. */
  get #perHost(): Metric<string>[] {
    return [this.linkUp, this.recordsPut, this.recordsGot, this.retransmissions, this.inboundRejected, this.queueFull, this.reconnects, this.clockOffset, this.foreignPuts] as Metric<string>[];
  }

  /**
   * Drops the series of hosts that are no longer in the store, so a removed
   * host's `vms_agent_link_up{host=…}` does not stay behind as a dead link.
   */
  async retainHosts(hosts: ReadonlySet<string>): Promise<void> {
    for (const metric of this.#perHost) {
      const m = metric as Gauge<string>;
      for (const { labels } of (await m.get()).values) {
        if (typeof labels.host === 'string' && !hosts.has(labels.host)) m.remove(labels as Record<string, string>);
      }
    }
  }
}
