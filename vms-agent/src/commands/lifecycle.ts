/**
 * The command lifecycle as a pure state machine:
 *
 *   queued → sent → challenged → (awaiting_approval) → applied | denied | failed | expired
 *
 * Moves only go forward; the four final states never change. Some steps
 * may be skipped because the far side can answer before we record the step
 * before it (a challenge can arrive before the Put Record of the last
 * fragment returns), and read-only actions are answered without a
 * challenge. Nothing here does IO: callers persist the transition (with
 * its event) before they tell anyone about it.
 */
export const COMMAND_STATES = ['queued', 'sent', 'challenged', 'awaiting_approval', 'applied', 'denied', 'failed', 'expired'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

export const FINAL_STATES: ReadonlySet<CommandState> = new Set(['applied', 'denied', 'failed', 'expired']);

const RANK: Record<CommandState, number> = {
  queued: 0,
  sent: 1,
  challenged: 2,
  awaiting_approval: 3,
  applied: 4,
  denied: 4,
  failed: 4,
  expired: 4,
};

export function isFinal(state: CommandState): boolean {
  return FINAL_STATES.has(state);
}

export function isCommandState(value: string): value is CommandState {
  return (COMMAND_STATES as readonly string[]).includes(value);
}

/** Whether `from → to` is a legal move (forward only, never out of a final state). */
export function canTransition(from: CommandState, to: CommandState): boolean {
  if (isFinal(from)) return false;
  return RANK[to] > RANK[from];
}

/** What a received challenge leads to, given what vms-agent can sign by itself. */
export interface ChallengePlan {
  state: 'challenged' | 'awaiting_approval';
  /** Sign now with the custodial key of the requesting principal. */
  signCustodially: boolean;
}

export interface ChallengeFacts {
  approvalsRequired: number;
  /** Principals whose signatures count; empty means "the requester". */
  approvers: readonly string[];
  requester: string;
  requesterHasCustodialKey: boolean;
  /** Valid signatures already collected (principal names). */
  alreadySigned: readonly string[];
}

export function planChallenge(facts: ChallengeFacts): ChallengePlan {
  const required = Math.max(1, facts.approvalsRequired);
  const requesterCounts = facts.approvers.length === 0 || facts.approvers.includes(facts.requester);
  const signCustodially = facts.requesterHasCustodialKey && requesterCounts && !facts.alreadySigned.includes(facts.requester);
  const have = new Set(facts.alreadySigned);
  if (signCustodially) have.add(facts.requester);
  return { state: have.size >= required ? 'challenged' : 'awaiting_approval', signCustodially };
}

export type ApprovalVerdict =
  | { ok: true; complete: boolean }
  | { ok: false; code: 'NOT_AN_APPROVER' | 'ALREADY_APPROVED' | 'NOT_AWAITING_APPROVAL' | 'CHALLENGE_EXPIRED'; message: string };

export interface ApprovalFacts {
  state: CommandState;
  approvalsRequired: number;
  approvers: readonly string[];
  requester: string;
  alreadySigned: readonly string[];
  approver: string;
  challengeExpiresAtMs: number;
  nowMs: number;
}

/** Decides whether one more signature may be added, and whether it completes the set. */
export function judgeApproval(f: ApprovalFacts): ApprovalVerdict {
  if (f.state !== 'awaiting_approval') {
    return { ok: false, code: 'NOT_AWAITING_APPROVAL', message: `command is ${f.state}, not awaiting_approval` };
  }
  if (f.nowMs >= f.challengeExpiresAtMs) {
    return { ok: false, code: 'CHALLENGE_EXPIRED', message: 'the challenge has expired; issue the command again' };
  }
  const allowed = f.approvers.length === 0 ? [f.requester] : f.approvers;
  if (!allowed.includes(f.approver)) {
    return { ok: false, code: 'NOT_AN_APPROVER', message: `${f.approver} is not among the approvers (${allowed.join(', ')})` };
  }
  if (f.alreadySigned.includes(f.approver)) {
    return { ok: false, code: 'ALREADY_APPROVED', message: `${f.approver} has already approved this command` };
  }
  return { ok: true, complete: f.alreadySigned.length + 1 >= Math.max(1, f.approvalsRequired) };
}

/**
 * A challenge nobody answered in time can be closed locally as expired: the
 * hypervisor-agent refuses a late answer anyway. Commands without a
 * challenge are never expired here, because the far side may have applied
 * them and its result is still on the way.
 */
export function isLocallyExpired(state: CommandState, challengeExpiresAtMs: number | undefined, responseSent: boolean, nowMs: number): boolean {
  if (state !== 'awaiting_approval' || responseSent || challengeExpiresAtMs === undefined) return false;
  return nowMs >= challengeExpiresAtMs;
}
