/**
 * Status reports: one every `intervalMs`, and one soon after a domain's state
 * changes. Changes are found by listing domains every `pollMs`, and when
 * poked (the agent pokes shortly after each applied action and each libvirt
 * lifecycle event).
 *
 * A change the manager already has from a command result (`noteKnown`: the
 * result names the domain and its state right after the action, and the
 * manager updates its copy of the last report from it) is not reported
 * again: after a command the report would repeat the result, and was a third
 * of the messages a command put on the BMC (docs/benchmarks.md "link-cost").
 * Any other difference, and every `intervalMs`, still sends one.
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
  /** Each domain's state as the manager last heard it (by name); undefined before the first report. */
  #lastStates: Map<string, number> | undefined;
  #forced = true;

  constructor(deps: StatusReporterDeps) {
    this.#d = deps;
  }

  /** Ask for a look at the domains on the next tick (after an action). */
  poke(): void {
    this.#forced = true;
  }

  /**
   * The manager has `name`'s state from a command result. Only for a domain
   * of the last report: the manager updates the copy it holds, and has
   * nothing to update for a domain it was never told about.
   */
  noteKnown(name: string, state: number): void {
    if (this.#lastStates?.has(name)) this.#lastStates.set(name, state);
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
    const states = new Map(domains.map((d) => [d.name ?? '', d.state ?? 0]));
    if (!due && sameStates(states, this.#lastStates)) return undefined;
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

function sameStates(a: Map<string, number>, b: Map<string, number> | undefined): boolean {
  if (!b || a.size !== b.size) return false;
  for (const [name, state] of a) if (b.get(name) !== state) return false;
  return true;
}
