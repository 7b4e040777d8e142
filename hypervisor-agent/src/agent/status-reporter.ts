/**
 * Status reports: one every `intervalMs`, and one soon after a domain's state
 * changes. The binding offers no lifecycle events, so changes are found by
 * listing domains every `pollMs`, and shortly after each applied action (not
 * at once: the action's result already carries the domain's new state, and a
 * report put on the BMC in the same moment only delays the manager's read of
 * that result).
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
  /** Look at the domains once this time has come, whatever the poll interval says (at once after start). */
  #lookAtMs = Number.NEGATIVE_INFINITY;

  constructor(deps: StatusReporterDeps) {
    this.#d = deps;
  }

  /** Ask for a look at the domains at the first tick at or after `atMs` (after an action). */
  poke(atMs: number): void {
    this.#lookAtMs = Math.min(this.#lookAtMs, atMs);
  }

  /** Returns the report sent, if any. */
  async tick(nowMs: number): Promise<StatusReport | undefined> {
    const due = nowMs - this.#lastReportMs >= this.#d.intervalMs;
    const looked = nowMs >= this.#lookAtMs;
    if (!due && !looked && nowMs - this.#lastPollMs < this.#d.pollMs) return undefined;
    if (looked) this.#lookAtMs = Number.POSITIVE_INFINITY;
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
