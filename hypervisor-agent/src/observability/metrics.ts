/** Prometheus metrics (prom-client), one registry per agent so tests can run several. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * How often prom-client's event-loop delay monitor samples (its default is every 10 ms: a timer
 * waking the process 100 times a second, which was most of an idle daemon's CPU — about 10 ms of
 * CPU a second per process here; docs/benchmarks.md "link-cost"). Once a second still catches
 * every stall longer than a second and a share of the shorter ones; the `*_eventloop_lag_seconds`
 * gauge, measured at each scrape, is unchanged.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

export class AgentMetrics {
  readonly registry = new Registry();
  readonly recordsIn = new Counter({ name: 'hypervisor_agent_records_in_total', help: 'Records read from BMC queue 1', registers: [this.registry] });
  readonly recordsOut = new Counter({ name: 'hypervisor_agent_records_out_total', help: 'Records put on BMC queue 2', registers: [this.registry] });
  readonly queueFull = new Counter({ name: 'hypervisor_agent_queue_full_total', help: 'Put Record answered 0xC4 (queue 2 full)', registers: [this.registry] });
  readonly resyncs = new Counter({ name: 'hypervisor_agent_resyncs_total', help: 'Queue resynchronisations', labelNames: ['reason'], registers: [this.registry] });
  readonly transportErrors = new Counter({ name: 'hypervisor_agent_link_errors_total', help: 'BMC link failures (reconnects)', registers: [this.registry] });
  readonly messagesIn = new Counter({ name: 'hypervisor_agent_messages_in_total', help: 'Envelopes received, by verdict', labelNames: ['verdict'], registers: [this.registry] });
  readonly commands = new Counter({ name: 'hypervisor_agent_commands_total', help: 'Command results journaled, by outcome', labelNames: ['outcome'], registers: [this.registry] });
  readonly alerts = new Counter({ name: 'hypervisor_agent_alerts_total', help: 'Security alerts raised, by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly unacked = new Gauge({ name: 'hypervisor_agent_unacked_messages', help: 'Messages sent and not yet acknowledged by the manager', registers: [this.registry] });
  readonly linkUp = new Gauge({ name: 'hypervisor_agent_link_up', help: '1 while the BMC link is up', registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  }
}
