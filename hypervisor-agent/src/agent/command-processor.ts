/**
 * Request-challenge-verify and exactly-once application (ARCHITECTURE.md
 * "Security model", "Reliability" item 3). Every request id ends in exactly one
 * journaled CommandResult, written in the same SQLite transaction as the
 * outbound message carrying it; a repeated request gets the stored result and
 * is never applied twice. Before libvirt is touched the request is marked
 * `applying`, so a crash mid-apply is reported (never retried) after restart.
 */
import type {
  DomainState} from '@backchannel/proto';
import {
  type Action,
  AlertKind,
  type Body,
  type ChallengeResponse,
  type CommandRequest,
  type CommandResult,
  bytesEqual,
  decodeMessage,
  encodeMessage,
  Outcome,
  type RandomBytes,
  requestDigest,
  toHex,
  v1,
  verifyRequest,
} from '@backchannel/proto';
import type { AlertFacts } from '../alerts/alert-factory.js';
import { issueChallenge, judgeResponse } from '../auth/challenge-flow.js';
import type { ActionOutcome } from '../libvirt/libvirt-adapter.js';
import { decide, visibleDomain } from '../policy/policy-decision.js';
import type { Policy } from '../policy/policy.js';
import type { AgentStore, RequestRow } from '../store/agent-store.js';

export interface ActionExecutor {
  execute(action: Action, domain: string): Promise<ActionOutcome>;
}

export interface ProcessorDeps {
  hostId: string;
  store: AgentStore;
  policy: () => Policy;
  executor: ActionExecutor;
  now: () => number;
  randomBytes: RandomBytes;
  /** Durably enqueues a body for the manager; called inside the journal transaction. */
  send: (body: Body) => void;
  alert: (facts: AlertFacts) => void;
  /** Observability hook: called once per libvirt application. */
  onApply?: (request: CommandRequest) => void;
  /** Fault injection for the crash tests: wait this long between apply and journal. */
  delayAfterApplyMs?: number;
}

const encodeRequest = (r: CommandRequest): Uint8Array => encodeMessage(v1.CommandRequest, r, 'CommandRequest');
const encodeResult = (r: CommandResult): Uint8Array => encodeMessage(v1.CommandResult, r, 'CommandResult');

export class CommandProcessor {
  readonly #d: ProcessorDeps;

  constructor(deps: ProcessorDeps) {
    this.#d = deps;
  }

  async handleRequest(request: CommandRequest): Promise<void> {
    const d = this.#d;
    const requestId = request.requestId ?? '';
    if (!requestId) return;
    const digest = requestDigest(request);
    const existing = d.store.getRequest(requestId);
    if (existing) {
      if (!bytesEqual(existing.digest, digest)) {
        d.send({ commandResult: this.#result(requestId, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_REQUEST_ID_REUSED', errorMessage: `request id ${requestId} was already used for a different request` }) });
      } else if (existing.state === 'done' && existing.result) {
        d.send({ commandResult: decodeMessage(v1.CommandResult, existing.result, 'CommandResult') });
      } else if (existing.state === 'challenged' && existing.challenge) {
        d.send({ challenge: decodeMessage(v1.Challenge, existing.challenge, 'Challenge') });
      }
      return;
    }
    const now = d.now();
    const row: RequestRow = { requestId, request: encodeRequest(request), digest, state: 'challenged', challenge: null, approvals: [], result: null, createdMs: now, updatedMs: now };
    const principal = request.principal ?? '';
    const action = request.action ?? 0;
    const domain = request.domain ?? '';
    if (request.hostId && request.hostId !== d.hostId) {
      return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_WRONG_HOST', errorMessage: `request is for host "${request.hostId}", this is "${d.hostId}"` });
    }
    const policy = d.policy();
    // An unknown principal is reported as such (docs/policy.md order), not as a
    // bad signature: there is no key to check its signature against.
    const known = policy.principals.get(principal);
    if (known && request.principalSignature?.signature?.length) {
      const keys = known.keys;
      if (!keys.some((k) => verifyRequest(request, k.publicKey))) {
        d.alert({ kind: AlertKind.ALERT_KIND_BAD_SIGNATURE, reason: `request signature does not verify for principal "${principal}"`, principal, action, domain, requestId });
        return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_BAD_SIGNATURE', errorMessage: 'the request signature does not verify' });
      }
    }
    const decision = decide(policy, principal, action, domain);
    if (!decision.allowed) {
      d.alert({ kind: decision.alertKind, reason: decision.reason, principal, action, domain, requestId });
      const code = decision.alertKind === AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL ? 'ERR_UNKNOWN_PRINCIPAL' : 'ERR_NOT_PERMITTED';
      return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: code, errorMessage: decision.reason });
    }
    if (!decision.challenge) return this.#apply(row, request);
    const challenge = issueChallenge({
      hostId: d.hostId,
      request,
      approvalsRequired: decision.approvalsRequired,
      approvers: decision.approvers,
      nowMs: now,
      ttlMs: policy.challengeTtlMs,
      randomBytes: d.randomBytes,
    });
    d.store.transaction(() => {
      d.store.putRequest({ ...row, challenge: encodeMessage(v1.Challenge, challenge, 'Challenge') });
      d.store.addNonce(toHex(challenge.nonce ?? new Uint8Array()), requestId, challenge.expiresAtMs ?? 0);
      d.send({ challenge });
    });
  }

  /**
   * `redelivery`: this envelope was already processed before a crash (its record
   * was re-read because the commit had not been persisted): answer from the
   * journal without raising a nonce-reuse alert.
   */
  async handleChallengeResponse(response: ChallengeResponse, options: { redelivery?: boolean } = {}): Promise<void> {
    const d = this.#d;
    const nonceHex = toHex(response.nonce ?? new Uint8Array());
    const nonce = d.store.getNonce(nonceHex);
    // The nonce names the request; a response may leave request_id empty (vms-agent does, so a
    // response fits one BMC record). When it does name one, it must be the nonce's.
    const claimed = response.requestId ?? '';
    const row = nonce ? d.store.getRequest(nonce.requestId) : claimed ? d.store.getRequest(claimed) : undefined;
    const request = row ? decodeMessage(v1.CommandRequest, row.request, 'CommandRequest') : undefined;
    const facts = { principal: request?.principal ?? '', action: request?.action ?? 0, domain: request?.domain ?? '', requestId: claimed || (nonce?.requestId ?? '') };
    if (!nonce || !row || !request || (claimed !== '' && nonce.requestId !== claimed) || !row.challenge) {
      const which = claimed ? `for request ${claimed} ` : '';
      d.alert({ kind: AlertKind.ALERT_KIND_BAD_SIGNATURE, reason: `challenge response ${which}names a nonce this host never issued${claimed ? ' for it' : ''}`, ...facts });
      return;
    }
    if (nonce.used) {
      const storedResult = row.result ? decodeMessage(v1.CommandResult, row.result, 'CommandResult') : undefined;
      if (options.redelivery) {
        if (storedResult) d.send({ commandResult: storedResult });
        return;
      }
      const stored = row.result ? decodeMessage(v1.CommandResult, row.result, 'CommandResult') : undefined;
      const expired = stored?.outcome === Outcome.OUTCOME_EXPIRED;
      d.alert({
        kind: expired ? AlertKind.ALERT_KIND_CHALLENGE_EXPIRED : AlertKind.ALERT_KIND_NONCE_REUSED,
        reason: expired ? `response to an expired challenge for request ${row.requestId}` : `challenge nonce for request ${row.requestId} was already used`,
        ...facts,
      });
      if (stored) d.send({ commandResult: stored });
      return;
    }
    const challenge = decodeMessage(v1.Challenge, row.challenge, 'Challenge');
    const verdict = judgeResponse({ policy: d.policy(), challenge, priorApprovals: row.approvals, response, nowMs: d.now() });
    switch (verdict.kind) {
      case 'expired':
        d.alert({ kind: AlertKind.ALERT_KIND_CHALLENGE_EXPIRED, reason: verdict.reason, ...facts });
        return this.#finish(row, Outcome.OUTCOME_EXPIRED, { errorCode: 'ERR_CHALLENGE_EXPIRED', errorMessage: verdict.reason }, nonceHex);
      case 'bad-signature':
        d.alert({ kind: AlertKind.ALERT_KIND_BAD_SIGNATURE, reason: verdict.reason, ...facts });
        return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_BAD_SIGNATURE', errorMessage: verdict.reason }, nonceHex);
      case 'pending':
        d.store.putRequest({ ...row, approvals: verdict.approvers, updatedMs: d.now() });
        return;
      case 'approved':
        return this.#apply({ ...row, approvals: verdict.approvers }, request, nonceHex);
    }
  }

  /** Challenges nobody answered in time end EXPIRED (no alert: nothing was attempted). */
  sweepExpired(): number {
    const d = this.#d;
    let count = 0;
    for (const row of d.store.requestsInState('challenged')) {
      const challenge = row.challenge ? decodeMessage(v1.Challenge, row.challenge, 'Challenge') : undefined;
      if (!challenge || d.now() <= (challenge.expiresAtMs ?? 0)) continue;
      this.#finish(row, Outcome.OUTCOME_EXPIRED, { errorCode: 'ERR_CHALLENGE_EXPIRED', errorMessage: 'no valid response before the challenge expired' }, toHex(challenge.nonce ?? new Uint8Array()));
      count += 1;
    }
    return count;
  }

  /**
   * After a crash between "applying" and the journal: the action may or may not
   * have taken effect. It is never retried; the result says so and gives the
   * domain's state now.
   */
  async recoverInterrupted(currentState: (domain: string) => Promise<DomainState>): Promise<number> {
    const rows = this.#d.store.requestsInState('applying');
    for (const row of rows) {
      const request = decodeMessage(v1.CommandRequest, row.request, 'CommandRequest');
      const state = await currentState(request.domain ?? '');
      this.#finish(row, Outcome.OUTCOME_FAILED, {
        errorCode: 'ERR_INTERRUPTED',
        errorMessage: 'the agent stopped while applying this request; it was not retried (check the domain state)',
        newState: state,
      });
    }
    return rows.length;
  }

  async #apply(row: RequestRow, request: CommandRequest, nonceHex?: string): Promise<void> {
    const d = this.#d;
    d.store.transaction(() => {
      if (nonceHex) d.store.useNonce(nonceHex);
      d.store.putRequest({ ...row, state: 'applying', updatedMs: d.now() });
    });
    // On disk before libvirt is touched: after a crash from here on, the request is reported, never applied again.
    d.store.flush();
    d.onApply?.(request);
    const outcome = await d.executor.execute(request.action ?? 0, request.domain ?? '');
    if (d.delayAfterApplyMs) await new Promise((resolve) => setTimeout(resolve, d.delayAfterApplyMs));
    const policy = d.policy();
    const domains = outcome.domains?.filter((info) => visibleDomain(policy, request.principal ?? '', info.name ?? ''));
    this.#finish(row, outcome.outcome, {
      previousState: outcome.previousState,
      newState: outcome.newState,
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      ...(domains ? { domains } : {}),
      ...(outcome.domainInfo ? { domainInfo: outcome.domainInfo } : {}),
    });
  }

  #result(requestId: string, outcome: Outcome, fields: Partial<CommandResult>): CommandResult {
    return { requestId, outcome, completedAtMs: this.#d.now(), ...fields };
  }

  #finish(row: RequestRow, outcome: Outcome, fields: Partial<CommandResult>, nonceHex?: string): void {
    const d = this.#d;
    const result = this.#result(row.requestId, outcome, fields);
    d.store.transaction(() => {
      if (nonceHex) d.store.useNonce(nonceHex);
      d.store.putRequest({ ...row, state: 'done', result: encodeResult(result), updatedMs: d.now() });
      d.send({ commandResult: result });
    });
  }
}
