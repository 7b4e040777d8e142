/**
 * Replays the libvirt applications the hypervisor-agent made, in the order
 * it made them, against a model of the fixture's domains, and says where
 * what libvirt reported differs from what the sequence implies.
 *
 * The libvirt test driver keeps its domains in the agent's process, so every
 * agent start (incarnation) begins again from the fixture's states; within an
 * incarnation, results come one after another (the agent handles one record
 * at a time). For each application: the state the result says the domain was
 * in must be the model's; an applied action must leave the state the action
 * implies; a failed one must leave the domain as it was; a list_domains or
 * domain_info result must show the model's states.
 */
import type { ApplyLine } from './apply-log.js';
import { AFTER, type DomainStateName, type StateChangingAction } from './command-script.js';
import type { JournalRow } from './journals.js';

export interface ModelReport {
  violations: string[];
  /** Applications checked against the model (every line with a journaled result). */
  checked: number;
  /** The last incarnation's model: what libvirt must show at the end. */
  finalStates: Record<string, DomainStateName>;
  /** Requests whose application an agent crash interrupted (ERR_INTERRUPTED). */
  interrupted: number;
}

export function replayApplications(lines: readonly ApplyLine[], journal: ReadonlyMap<string, JournalRow>, fixture: Readonly<Record<string, DomainStateName>>, incarnations: number): ModelReport {
  const violations: string[] = [];
  let model: Record<string, DomainStateName | 'unknown'> = {};
  let incarnation = -1;
  let lastCompletedAt = 0;
  let interruptedIn = -1;
  let checked = 0;
  let interrupted = 0;
  const startIncarnation = (n: number) => {
    incarnation = n;
    model = { ...fixture };
    lastCompletedAt = 0;
  };
  startIncarnation(0);
  for (const line of lines) {
    if (line.incarnation !== incarnation) startIncarnation(line.incarnation);
    const row = journal.get(line.requestId);
    const where = `incarnation ${line.incarnation}, ${line.action} ${line.domain} (request ${line.requestId})`;
    if (!row?.result) {
      violations.push(`${where}: applied but the journal has no result for it (state ${row?.state ?? 'absent'})`);
      continue;
    }
    if (interruptedIn === incarnation) violations.push(`${where}: applied after an interrupted application in the same incarnation`);
    const r = row.result;
    if (r.errorCode === 'ERR_INTERRUPTED') {
      // Its effect died with the process (the test driver reloads the fixture); the
      // recovery, at the next start before anything else, reported the fresh state.
      interrupted++;
      interruptedIn = incarnation;
      model[line.domain] = 'unknown';
      const fresh = fixture[line.domain];
      if (line.action !== 'list_domains' && fresh && r.newState !== fresh) violations.push(`${where}: ERR_INTERRUPTED reports ${r.newState}, but the restarted agent's domain is ${fresh}`);
      continue;
    }
    checked++;
    if (r.completedAtMs < lastCompletedAt) violations.push(`${where}: completed at ${r.completedAtMs}, before the previous application (${lastCompletedAt}): journal order differs from apply order`);
    lastCompletedAt = Math.max(lastCompletedAt, r.completedAtMs);
    if (line.action === 'list_domains') {
      if (r.outcome !== 'applied') continue;
      for (const [name, state] of Object.entries(model)) {
        const seen = r.domains.find((d) => d.name === name)?.state;
        if (state !== 'unknown' && seen !== state) violations.push(`${where}: lists ${name} ${seen ?? 'missing'}, the applied sequence implies ${state}`);
      }
      continue;
    }
    const expected = model[line.domain];
    if (expected === undefined) {
      violations.push(`${where}: not a fixture domain`);
      continue;
    }
    if (expected !== 'unknown' && r.previousState !== expected) violations.push(`${where}: libvirt says it was ${r.previousState}, the applied sequence implies ${expected}`);
    if (r.outcome === 'applied') {
      const after = line.action === 'domain_info' ? r.previousState : AFTER[line.action as StateChangingAction];
      if (after === undefined) violations.push(`${where}: unknown action`);
      else if (r.newState !== after) violations.push(`${where}: applied but left ${r.newState}, expected ${after}`);
      model[line.domain] = r.newState as DomainStateName;
    } else if (r.outcome === 'failed') {
      if (r.newState !== r.previousState) violations.push(`${where}: failed (${r.errorCode}) yet moved ${r.previousState} -> ${r.newState}`);
      model[line.domain] = r.newState as DomainStateName;
    } else {
      violations.push(`${where}: applied but the journaled outcome is ${r.outcome}`);
    }
  }
  // Incarnations after the last line start from the fixture too.
  if (incarnations - 1 !== incarnation) startIncarnation(incarnations - 1);
  const finalStates: Record<string, DomainStateName> = {};
  for (const [name, state] of Object.entries(model)) {
    if (state === 'unknown') violations.push(`${name}: its last application was interrupted and the agent was not restarted after it`);
    else finalStates[name] = state;
  }
  return { violations, checked, finalStates, interrupted };
}
