/**
 * Status reports: one every `intervalMs`, and one soon after a domain's state
 * changes. The binding offers no lifecycle events, so changes are found by
 * listing domains every `pollMs`, and when poked (the agent pokes shortly
 * after each applied action).
 */
import type { DomainInfo, StatusReport } from '@backchannel/proto';

export interface StatusReporterDeps {
  hostId: string;
  agentVersion: string;
  libvirtVersion: string;
  hypervisor: string;
  intervalMs: number;
  pollMs: number;
  listDomains: () => Promise<DomainInfo[]>;
  send: (report: StatusReport) => void;
  nextSeq: () => number;
}

export class StatusReporter {
  readonly #d: StatusReporterDeps;
  #lastReportMs = Number.NEGATIVE_INFINITY;
  #lastPollMs = Number.NEGATIVE_INFINITY;
  #lastStates = '';
  #forced = true;

  constructor(deps: StatusReporterDeps) {
    this.#d = deps;
  }

  /** Ask for a look at the domains on the next tick (after an action). */
  poke(): void {
    this.#forced = true;
  }

  /** Returns the report sent, if any. */
  async tick(nowMs: number): Promise<StatusReport | undefined> {
    const due = nowMs - this.#lastReportMs >= this.#d.intervalMs;
    if (!due && !this.#forced && nowMs - this.#lastPollMs < this.#d.pollMs) return undefined;
    this.#forced = false;
    this.#lastPollMs = nowMs;
    let domains: DomainInfo[];
    try {
      domains = await this.#d.listDomains();
    } catch {
      return undefined; // libvirt down: the next tick tries again
    }
    const states = domains.map((d) => `${d.name}=${d.state}`).join(',');
    if (!due && states === this.#lastStates) return undefined;
    this.#lastStates = states;
    this.#lastReportMs = nowMs;
    const report: StatusReport = {
      hostId: this.#d.hostId,
      timeMs: nowMs,
      agentVersion: this.#d.agentVersion,
      libvirtVersion: this.#d.libvirtVersion,
      hypervisor: this.#d.hypervisor,
      domains,
      reportSeq: this.#d.nextSeq(),
    };
    this.#d.send(report);
    return report;
  }
}
