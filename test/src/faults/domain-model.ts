/**
 * Replays the libvirt applications the hypervisor-agent made, in the order
 * it made them, against a model of the fixture's domains, and says where
 * what libvirt reported differs from what the sequence implies.
 *
 * The libvirt test driver keeps its domains in the agent's process, so every
 * agent start (incarnation) begins again from the fixture's states. Within
 * an incarnation the agent runs applications on one domain one after another
 * and applications on different domains concurrently (its ActionRunner); a
 * list_domains runs in a lane of its own. So the model is kept per domain:
 * in each domain's lane, results must complete in the order they started;
 * the state a result says the domain was in must be the model's; an applied
 * action must leave the state the action implies; a failed one must leave the
 * domain as it was. A list_domains result must show the model's state of
 * every domain that no application touched while the list ran (one that
 * overlapped it may show either side of its change).
 */
import type { ApplyLine } from './apply-log.js';
import { type DomainStateName, type StateChangingAction, stateAfter } from './command-script.js';
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
  let checked = 0;
  let interrupted = 0;
  let model: Record<string, DomainStateName | 'unknown'> = { ...fixture };
  let last = -1;
  const byIncarnation = new Map<number, ApplyLine[]>();
  for (const line of lines) {
    const list = byIncarnation.get(line.incarnation) ?? [];
    list.push(line);
    byIncarnation.set(line.incarnation, list);
  }
  for (const [incarnation, ofIncarnation] of [...byIncarnation].sort((a, b) => a[0] - b[0])) {
    const r = replayIncarnation(ofIncarnation, journal, fixture);
    violations.push(...r.violations);
    checked += r.checked;
    interrupted += r.interrupted;
    model = r.model;
    last = incarnation;
  }
  // Incarnations after the last line start from the fixture too.
  if (incarnations - 1 !== last) model = { ...fixture };
  const finalStates: Record<string, DomainStateName> = {};
  for (const [name, state] of Object.entries(model)) {
    if (state === 'unknown') violations.push(`${name}: its last application was interrupted and the agent was not restarted after it`);
    else finalStates[name] = state;
  }
  return { violations, checked, finalStates, interrupted };
}

/** A domain's application that completed, as the model's timeline keeps it. */
interface Settled {
  startedAtMs: number;
  completedAtMs: number;
  stateAfter: DomainStateName | 'unknown';
}

const HOST_LANE = '';

function replayIncarnation(lines: readonly ApplyLine[], journal: ReadonlyMap<string, JournalRow>, fixture: Readonly<Record<string, DomainStateName>>): { violations: string[]; checked: number; interrupted: number; model: Record<string, DomainStateName | 'unknown'> } {
  const violations: string[] = [];
  const model: Record<string, DomainStateName | 'unknown'> = { ...fixture };
  /** Per lane (a domain, or the host lane of list_domains): the last completion seen, and whether an application in it was interrupted. */
  const lastCompletedAt = new Map<string, number>();
  const interruptedLanes = new Set<string>();
  /** Per domain: its applications in lane order, for the list_domains checks below. */
  const timelines = new Map<string, Settled[]>();
  const lists: { line: ApplyLine; where: string; completedAtMs: number; domains: { name: string; state: string }[] }[] = [];
  let checked = 0;
  let interrupted = 0;
  for (const line of lines) {
    const row = journal.get(line.requestId);
    const where = `incarnation ${line.incarnation}, ${line.action} ${line.domain} (request ${line.requestId})`;
    const lane = line.action === 'list_domains' ? HOST_LANE : line.domain;
    if (!row?.result) {
      violations.push(`${where}: applied but the journal has no result for it (state ${row?.state ?? 'absent'})`);
      continue;
    }
    // One lane runs one application at a time: after one was cut off by the agent's death, none follows in that lane.
    if (interruptedLanes.has(lane)) violations.push(`${where}: applied after an interrupted application on the same domain in the same incarnation`);
    const r = row.result;
    const timeline = timelines.get(line.domain) ?? [];
    if (lane !== HOST_LANE) timelines.set(line.domain, timeline);
    if (r.errorCode === 'ERR_INTERRUPTED') {
      // Its effect died with the process (the test driver reloads the fixture); the
      // recovery, at the next start before anything else, reported the fresh state.
      interrupted++;
      interruptedLanes.add(lane);
      if (lane !== HOST_LANE) {
        model[line.domain] = 'unknown';
        timeline.push({ startedAtMs: line.startedAtMs, completedAtMs: Number.POSITIVE_INFINITY, stateAfter: 'unknown' });
      }
      const fresh = fixture[line.domain];
      if (line.action !== 'list_domains' && fresh && r.newState !== fresh) violations.push(`${where}: ERR_INTERRUPTED reports ${r.newState}, but the restarted agent's domain is ${fresh}`);
      continue;
    }
    checked++;
    const previous = lastCompletedAt.get(lane) ?? 0;
    if (r.completedAtMs < previous) violations.push(`${where}: completed at ${r.completedAtMs}, before the previous application on the same domain (${previous}): the journal's order differs from the order of application`);
    lastCompletedAt.set(lane, Math.max(previous, r.completedAtMs));
    if (line.action === 'list_domains') {
      if (r.outcome === 'applied') lists.push({ line, where, completedAtMs: r.completedAtMs, domains: r.domains.map((d) => ({ name: d.name, state: String(d.state) })) });
      continue;
    }
    const expected = model[line.domain];
    if (expected === undefined) {
      violations.push(`${where}: not a fixture domain`);
      continue;
    }
    if (expected !== 'unknown' && r.previousState !== expected) violations.push(`${where}: libvirt says it was ${r.previousState}, the applied sequence implies ${expected}`);
    if (r.outcome === 'applied') {
      const after = line.action === 'domain_info' ? r.previousState : stateAfter(line.action as StateChangingAction, r.previousState as DomainStateName);
      if (after === undefined) violations.push(`${where}: unknown action`);
      else if (r.newState !== after) violations.push(`${where}: applied but left ${r.newState}, expected ${after}`);
      model[line.domain] = r.newState as DomainStateName;
    } else if (r.outcome === 'failed') {
      if (r.newState !== r.previousState) violations.push(`${where}: failed (${r.errorCode}) yet moved ${r.previousState} -> ${r.newState}`);
      model[line.domain] = r.newState as DomainStateName;
    } else {
      violations.push(`${where}: applied but the journaled outcome is ${r.outcome}`);
    }
    timeline.push({ startedAtMs: line.startedAtMs, completedAtMs: r.completedAtMs, stateAfter: model[line.domain] ?? 'unknown' });
  }
  for (const list of lists) {
    for (const name of Object.keys(fixture)) {
      const state = stateDuring(timelines.get(name) ?? [], fixture[name] as DomainStateName, list.line.startedAtMs, list.completedAtMs);
      if (state === 'unknown') continue;
      const seen = list.domains.find((d) => d.name === name)?.state;
      if (seen !== state) violations.push(`${list.where}: lists ${name} ${seen ?? 'missing'}, the applied sequence implies ${state}`);
    }
  }
  return { violations, checked, interrupted, model };
}

/**
 * A domain's state while a list ran from `fromMs` to `toMs`, from its lane's
 * timeline: 'unknown' if one of its applications overlapped the list (both
 * sides are possible; a shared millisecond counts as overlap), else the
 * state its last earlier application left (the fixture's if none).
 */
function stateDuring(timeline: readonly Settled[], initial: DomainStateName, fromMs: number, toMs: number): DomainStateName | 'unknown' {
  let state: DomainStateName | 'unknown' = initial;
  for (const s of timeline) {
    if (s.startedAtMs <= toMs && s.completedAtMs >= fromMs) return 'unknown';
    if (s.completedAtMs < fromMs) state = s.stateAfter;
  }
  return state;
}
