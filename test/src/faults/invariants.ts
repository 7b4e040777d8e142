/**
 * The checks of a fault run, over what the run saw (the API's answers) and
 * what the parts recorded (vms-agent's store, the hypervisor-agent's request
 * journal and apply log lines, libvirt's final state):
 *
 * - every command reaches a final state (applied, denied, failed, expired);
 * - none is lost: each 202 has its command in the store, each stored command
 *   (except those expired before the host answered) has its request in the
 *   host's journal with the same result the manager stored;
 * - none is applied twice: at most one "applying action" line per request
 *   across every agent incarnation, exactly one for each applied or
 *   libvirt-failed result, none for denied or expired ones;
 * - every result matches its request (id, action, domain, principal, host),
 *   and the API showed it so;
 * - the domains' states follow from the applied sequence (domain-model.ts)
 *   and equal what libvirt shows at the end;
 * - the only alerts are the expected ones: one `unknown_principal` per
 *   command by mallory, signed by the host.
 */
import type { ApplyLine } from './apply-log.js';
import type { DomainStateName } from './command-script.js';
import { replayApplications } from './domain-model.js';
import type { DecodedRequest, DecodedResult, JournalRow, StoredAlert, StoredCommand } from './journals.js';

export const FINAL_STATES: ReadonlySet<string> = new Set(['applied', 'denied', 'failed', 'expired']);

export interface RunRecord {
  hostId: string;
  /** Ids the API answered 202 for. */
  accepted: ReadonlySet<string>;
  /** POSTs whose answer was lost to a vms-agent kill: the command may or may not exist. */
  uncertainPosts: number;
  /** Problems the driver saw at the API while the run went on (wrong command echoed, timeouts). */
  apiViolations: readonly string[];
  commands: readonly StoredCommand[];
  journal: ReadonlyMap<string, JournalRow>;
  applyLines: readonly ApplyLine[];
  agentIncarnations: number;
  alerts: readonly StoredAlert[];
  fixture: Readonly<Record<string, DomainStateName>>;
  /** Domain states libvirt showed at the end (a list_domains result), and the last status report. */
  finalListed: Readonly<Record<string, string>>;
  finalReported: Readonly<Record<string, string>>;
}

export interface Verdict {
  violations: string[];
  outcomes: Record<string, number>;
  applicationsChecked: number;
  interrupted: number;
  orphans: number;
}

const OUTCOME_OF_STATE: Record<string, string> = { applied: 'applied', denied: 'denied', failed: 'failed', expired: 'expired' };

function sameRequest(a: DecodedRequest, b: DecodedRequest): boolean {
  return a.requestId === b.requestId && a.hostId === b.hostId && a.principal === b.principal && a.action === b.action && a.domain === b.domain && a.issuedAtMs === b.issuedAtMs;
}

function sameResult(a: DecodedResult, b: DecodedResult): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function checkRun(run: RunRecord): Verdict {
  const v: string[] = [...run.apiViolations];
  const outcomes: Record<string, number> = {};
  const byId = new Map(run.commands.map((c) => [c.id, c]));

  // Nothing lost between the API's 202 and the store.
  for (const id of run.accepted) if (!byId.has(id)) v.push(`command ${id}: accepted (202) but not in vms-agent's store`);
  const orphans = run.commands.filter((c) => !run.accepted.has(c.id)).length;
  if (orphans > run.uncertainPosts) v.push(`${orphans} stored commands were never answered 202, but only ${run.uncertainPosts} POSTs lost their answer`);

  const lines = new Map<string, ApplyLine[]>();
  for (const l of run.applyLines) lines.set(l.requestId, [...(lines.get(l.requestId) ?? []), l]);

  for (const c of run.commands) {
    outcomes[c.state] = (outcomes[c.state] ?? 0) + 1;
    const tag = `command ${c.id} (${c.principal} ${c.action} ${c.domain})`;
    if (!FINAL_STATES.has(c.state)) v.push(`${tag}: not final, still ${c.state}`);
    // The request vms-agent stored and sent is the one the API was asked for.
    const req = c.request;
    if (req.requestId !== c.id || req.action !== c.action || req.domain !== c.domain || req.principal !== c.principal || req.hostId !== run.hostId) {
      v.push(`${tag}: stored request says ${JSON.stringify(req)}`);
    }
    const row = run.journal.get(c.id);
    const applied = lines.get(c.id) ?? [];
    if (applied.length > 1) v.push(`${tag}: applied ${applied.length} times (incarnations ${applied.map((l) => l.incarnation).join(', ')})`);
    for (const l of applied) if (l.action !== c.action || l.domain !== c.domain || l.principal !== c.principal) v.push(`${tag}: the agent applied ${l.action} ${l.domain} for ${l.principal}`);
    if (!row) {
      // Only a command the host never answered may be missing there, and then it cannot have been applied.
      if (c.state !== 'expired' || applied.length > 0) v.push(`${tag}: ${c.state} but the hypervisor-agent never journaled it`);
      continue;
    }
    if (!sameRequest(row.request, req)) v.push(`${tag}: the journal holds a different request ${JSON.stringify(row.request)}`);
    if (c.state === 'expired' && (!row.result || row.result.outcome === 'expired')) {
      if (applied.length > 0) v.push(`${tag}: expired at vms-agent but applied by the agent`);
      continue;
    }
    if (!row.result || row.state !== 'done') {
      v.push(`${tag}: ${c.state} at vms-agent, journal state ${row.state}`);
      continue;
    }
    const r = row.result;
    if (r.requestId !== c.id) v.push(`${tag}: journaled result names request ${r.requestId}`);
    if (FINAL_STATES.has(c.state)) {
      if (OUTCOME_OF_STATE[c.state] !== r.outcome) v.push(`${tag}: ${c.state} at vms-agent, ${r.outcome} in the journal`);
      if (!c.result) v.push(`${tag}: final without a stored result`);
      else if (!sameResult(c.result, r)) v.push(`${tag}: vms-agent stored ${JSON.stringify(c.result)}, the agent journaled ${JSON.stringify(r)}`);
    }
    // Exactly one application for each result that came from libvirt, none for the others.
    const fromLibvirt = r.outcome === 'applied' || (r.outcome === 'failed' && r.errorCode !== 'ERR_INTERRUPTED');
    if (fromLibvirt && applied.length !== 1) v.push(`${tag}: result ${r.outcome} ${r.errorCode} but applied ${applied.length} times`);
    if ((r.outcome === 'denied' || r.outcome === 'expired') && applied.length > 0) v.push(`${tag}: ${r.outcome} but applied`);
    if (r.outcome === 'applied' && c.action === 'domain_info' && r.domainInfoName !== c.domain) v.push(`${tag}: domain_info answered for ${r.domainInfoName}`);
    if (r.outcome === 'applied' && c.action === 'list_domains' && r.domains.length !== Object.keys(run.fixture).length) v.push(`${tag}: list_domains answered ${r.domains.length} domains`);
    if (c.principal === 'mallory' && r.outcome !== 'denied') v.push(`${tag}: mallory is not in the host policy, yet ${r.outcome}`);
  }

  // The journal holds nothing the manager did not send, and nothing half done.
  for (const row of run.journal.values()) {
    if (!byId.has(row.requestId)) v.push(`journal request ${row.requestId} (${row.request.action} ${row.request.domain}) was never issued by vms-agent`);
    if (row.state === 'applying') v.push(`journal request ${row.requestId}: still applying`);
  }
  for (const l of run.applyLines) if (!run.journal.has(l.requestId)) v.push(`applied request ${l.requestId} has no journal row`);

  // States follow from the applied sequence, and libvirt agrees at the end.
  const model = replayApplications(run.applyLines, run.journal, run.fixture, run.agentIncarnations);
  v.push(...model.violations);
  for (const [name, state] of Object.entries(model.finalStates)) {
    if (run.finalListed[name] !== state) v.push(`${name}: libvirt lists it ${run.finalListed[name] ?? 'missing'} at the end, the applied sequence implies ${state}`);
    if (run.finalReported[name] !== state) v.push(`${name}: the last status report says ${run.finalReported[name] ?? 'missing'}, the applied sequence implies ${state}`);
  }

  // Alerts: one per command by mallory, none else, each signed by the host.
  const mallory = new Set(run.commands.filter((c) => c.principal === 'mallory').map((c) => c.id));
  const alertsFor = new Map<string, number>();
  for (const a of run.alerts) {
    if (a.kind !== 'unknown_principal' || !mallory.has(a.requestId)) v.push(`unexpected alert ${a.kind} for ${a.principal} (request ${a.requestId})`);
    if (a.signatureStatus !== 'verified') v.push(`alert ${a.alertId}: signature ${a.signatureStatus}`);
    alertsFor.set(a.requestId, (alertsFor.get(a.requestId) ?? 0) + 1);
  }
  for (const id of mallory) if (alertsFor.get(id) !== 1) v.push(`command ${id} by mallory: ${alertsFor.get(id) ?? 0} alerts, expected 1`);

  return { violations: v, outcomes, applicationsChecked: model.checked, interrupted: model.interrupted, orphans };
}
