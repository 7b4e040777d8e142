/**
 * Request-challenge-verify and exactly-once application (ARCHITECTURE.md
 * "Security model", "Reliability" item 3), beside the link, never in its way
 * (team brief, "the agent seam").
 *
 * `handleRequest` and `handleChallengeResponse` return as soon as what they
 * decided is journaled; everything that talks to libvirt runs in an
 * ActionRunner:
 *   1. A request's names are checked (no control characters and the like:
 *      INVALID_NAME), then its domain is resolved through libvirt to its
 *      canonical identity (name and UUID) in a job; libvirt's name must equal
 *      the requested one byte for byte. The policy decides on that identity.
 *   2. An allowed request is challenged (or, read-only, applied at once).
 *   3. Applying: `applying` is journaled (and on disk before libvirt is
 *      touched), the action is handed to the runner, keyed by the domain's UUID
 *      (same domain: in order; different domains: concurrently). When it ends,
 *      the result is journaled and its CommandResult enqueued in one
 *      transaction, and `wake` tells the link to put it out.
 * Every request id ends in exactly one journaled CommandResult; a repeated
 * request gets the stored result and is never applied twice. After a crash a
 * request found `applying` is reported FAILED/ERR_INTERRUPTED, never retried;
 * one found `resolving` (nothing decided, nothing applied) is resolved again.
 */
import {
  Action,
  AlertKind,
  type Body,
  type ChallengeResponse,
  type CommandRequest,
  type CommandResult,
  actionName,
  bytesEqual,
  decodeMessage,
  DomainState,
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
import { type ActionParams, parseActionParams } from '../libvirt/action-params.js';
import type { ActionOutcome, DomainTarget, Resolution } from '../libvirt/libvirt-adapter.js';
import { canonicalMismatch, nameProblem } from '../policy/canonical-name.js';
import { decide, visibleDomain } from '../policy/policy-decision.js';
import type { Policy } from '../policy/policy.js';
import type { AgentStore, RequestRow } from '../store/agent-store.js';
import { ActionRunner, type RunnerTimers } from './action-runner.js';

export interface ActionExecutor {
  /** The domain's canonical identity, or why there is none. Never throws. */
  resolve(name: string): Promise<Resolution>;
  /** Applies `action` (to `target`; undefined for host-wide actions). Never throws. */
  execute(action: Action, target: DomainTarget | undefined, params: ActionParams, signal: AbortSignal): Promise<ActionOutcome>;
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
  /** Called after a result (or progress) was journaled outside the link's own turn: put it out now. */
  wake?: () => void;
  /** Observability hook: called once per libvirt application, right before libvirt is touched. */
  onApply?: (request: CommandRequest) => void;
  /** Called once an applied action's result is journaled (the agent then looks at the domains for a status report). */
  onApplied?: (request: CommandRequest, result: CommandResult) => void;
  /** A job failed in a way it could not journal (a bug); for the log. */
  onJobError?: (err: unknown) => void;
  /** At most this many actions at once (different domains); default 16. */
  maxConcurrentActions?: number;
  /** An action still running after this long is reported in progress; default 1000 ms. */
  progressAfterMs?: number;
  /** Timers for the runners (tests use fake ones). */
  timers?: RunnerTimers;
  /** Fault injection for the crash tests: wait this long between apply and journal. */
  delayAfterApplyMs?: number;
}

const encodeRequest = (r: CommandRequest): Uint8Array => encodeMessage(v1.CommandRequest, r, 'CommandRequest');
const encodeResult = (r: CommandResult): Uint8Array => encodeMessage(v1.CommandResult, r, 'CommandResult');
const decodeRequest = (row: RequestRow): CommandRequest => decodeMessage(v1.CommandRequest, row.request, 'CommandRequest');

/** Host-wide actions: no domain to resolve, run in their own lane. */
const HOST_WIDE: ReadonlySet<Action> = new Set([Action.ACTION_LIST_DOMAINS]);
const HOST_LANE = 'host';

export class CommandProcessor {
  readonly #d: ProcessorDeps;
  /** Domain look-ups before the policy decides (quick, read-only; bounded separately so slow actions never hold them up). */
  readonly #lookups: ActionRunner;
  /** Actions, one lane per domain UUID. */
  readonly #actions: ActionRunner;

  constructor(deps: ProcessorDeps) {
    this.#d = deps;
    const onError = (err: unknown): void => deps.onJobError?.(err);
    this.#lookups = new ActionRunner({ maxConcurrent: 4, onError, ...(deps.timers ? { timers: deps.timers } : {}) });
    this.#actions = new ActionRunner({ maxConcurrent: deps.maxConcurrentActions ?? 16, onError, ...(deps.timers ? { timers: deps.timers } : {}) });
  }

  /** Actions running now and waiting for their domain's lane (metrics, tests). */
  get actionsInFlight(): { active: number; waiting: number } {
    return { active: this.#actions.active, waiting: this.#actions.waiting };
  }

  /** Resolves when no look-up or action is running or queued (tests). */
  async idle(): Promise<void> {
    for (;;) {
      await this.#lookups.idle();
      await this.#actions.idle();
      if (this.#lookups.active + this.#lookups.waiting + this.#actions.active + this.#actions.waiting === 0) return;
    }
  }

  /**
   * Takes no more work; lets running actions finish for up to `graceMs`, then
   * abandons them. An abandoned action stays `applying` in the journal (reported
   * ERR_INTERRUPTED at the next start); an abandoned look-up stays `resolving`
   * (resolved again at the next start). Returns how many were abandoned.
   */
  async stop(graceMs: number): Promise<number> {
    const [lookups, actions] = await Promise.all([this.#lookups.stop(graceMs), this.#actions.stop(graceMs)]);
    return lookups + actions;
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
      return; // resolving or applying: its answer is on the way
    }
    const now = d.now();
    const row: RequestRow = { requestId, request: encodeRequest(request), digest, state: 'resolving', challenge: null, approvals: [], result: null, createdMs: now, updatedMs: now, target: null };
    const principal = request.principal ?? '';
    const action = request.action ?? 0;
    const domain = request.domain ?? '';
    const facts = { principal, action, domain, requestId };
    const invalid = nameProblem('host id', request.hostId ?? '') ?? nameProblem('principal', principal) ?? nameProblem('domain', domain);
    if (invalid) {
      d.alert({ kind: AlertKind.ALERT_KIND_INVALID_NAME, reason: invalid, ...facts });
      return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_INVALID_NAME', errorMessage: invalid });
    }
    if (request.hostId && request.hostId !== d.hostId) {
      return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_WRONG_HOST', errorMessage: `request is for host "${request.hostId}", this is "${d.hostId}"` });
    }
    const policy = d.policy();
    // An unknown principal is reported as such (docs/policy.md order), not as a
    // bad signature: there is no key to check its signature against.
    const known = policy.principals.get(principal);
    if (known && request.principalSignature?.signature?.length) {
      if (!known.keys.some((k) => verifyRequest(request, k.publicKey))) {
        d.alert({ kind: AlertKind.ALERT_KIND_BAD_SIGNATURE, reason: `request signature does not verify for principal "${principal}"`, ...facts });
        return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_BAD_SIGNATURE', errorMessage: 'the request signature does not verify' });
      }
    }
    if (!known || HOST_WIDE.has(action)) return this.#decide(row, request, undefined);
    // Resolve before deciding: journaled first, so a request acknowledged to the manager is never lost.
    d.store.transaction(() => d.store.putRequest(row));
    this.#resolveLater(row, request);
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
    const request = row ? decodeRequest(row) : undefined;
    const facts = { principal: request?.principal ?? '', action: request?.action ?? 0, domain: request?.domain ?? '', requestId: claimed || (nonce?.requestId ?? '') };
    if (!nonce || !row || !request || (claimed !== '' && nonce.requestId !== claimed) || !row.challenge) {
      const which = claimed ? `for request ${claimed} ` : '';
      d.alert({ kind: AlertKind.ALERT_KIND_BAD_SIGNATURE, reason: `challenge response ${which}names a nonce this host never issued${claimed ? ' for it' : ''}`, ...facts });
      return;
    }
    if (nonce.used) {
      const stored = row.result ? decodeMessage(v1.CommandResult, row.result, 'CommandResult') : undefined;
      if (options.redelivery) {
        if (stored) d.send({ commandResult: stored });
        return;
      }
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
   * At start, before the link runs. A request interrupted between "applying"
   * and its result may or may not have taken effect: it is never retried; the
   * result says so and gives the domain's state now. A request interrupted
   * while its domain was being looked up is looked up again (nothing was
   * decided or applied). Returns how many were reported interrupted.
   */
  async recoverInterrupted(currentState: (domain: string) => Promise<DomainState>): Promise<number> {
    const d = this.#d;
    const rows = d.store.requestsInState('applying');
    for (const row of rows) {
      const request = decodeRequest(row);
      const state = await currentState(row.target?.name ?? request.domain ?? '');
      this.#finish(row, Outcome.OUTCOME_FAILED, {
        errorCode: 'ERR_INTERRUPTED',
        errorMessage: 'the agent stopped while applying this request; it was not retried (check the domain state)',
        newState: state,
        ...this.#targetFields(row.target),
      });
    }
    for (const row of d.store.requestsInState('resolving')) this.#resolveLater(row, decodeRequest(row));
    return rows.length;
  }

  #resolveLater(row: RequestRow, request: CommandRequest): void {
    const domain = request.domain ?? '';
    // Keyed by the requested name: look-ups of one name finish in arrival order, so their actions queue in that order too.
    this.#lookups.submit(`name:${domain}`, async (signal) => {
      const resolution = await this.#d.executor.resolve(domain);
      if (signal.aborted) return; // stays `resolving`: looked up again at the next start
      this.#decide(row, request, resolution);
      this.#d.wake?.();
    });
  }

  /** The policy's decision on the request, with its domain as libvirt resolved it. */
  #decide(row: RequestRow, request: CommandRequest, resolution: Resolution | undefined): void {
    const d = this.#d;
    const principal = request.principal ?? '';
    const action = request.action ?? 0;
    const domain = request.domain ?? '';
    const facts = { principal, action, domain, requestId: row.requestId };
    if (resolution?.kind === 'found') {
      const mismatch = canonicalMismatch(domain, resolution.target.name);
      if (mismatch) {
        d.alert({ kind: AlertKind.ALERT_KIND_INVALID_NAME, reason: mismatch, ...facts });
        return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: 'ERR_INVALID_NAME', errorMessage: mismatch });
      }
    }
    const target = resolution?.kind === 'found' ? resolution.target : undefined;
    const policy = d.policy();
    const decision = decide(policy, principal, action, target?.name ?? domain);
    if (!decision.allowed) {
      d.alert({ kind: decision.alertKind, reason: decision.reason, ...facts });
      const code = decision.alertKind === AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL ? 'ERR_UNKNOWN_PRINCIPAL' : 'ERR_NOT_PERMITTED';
      return this.#finish(row, Outcome.OUTCOME_DENIED, { errorCode: code, errorMessage: decision.reason });
    }
    const params = parseActionParams(action, request.parameters);
    if (!params.ok) return this.#finish(row, Outcome.OUTCOME_FAILED, { errorCode: 'ERR_BAD_PARAMETER', errorMessage: params.message });
    if (resolution && resolution.kind !== 'found') {
      // Nothing to act on (no such domain, or libvirt unreachable): said now, without a challenge.
      return this.#finish(row, Outcome.OUTCOME_FAILED, { errorCode: resolution.failure.code, errorMessage: resolution.failure.message, newState: DomainState.DOMAIN_STATE_NOSTATE });
    }
    const resolved: RequestRow = { ...row, target: target ?? null };
    if (!decision.challenge) return this.#apply(resolved, request);
    const challenge = issueChallenge({
      hostId: d.hostId,
      request,
      approvalsRequired: decision.approvalsRequired,
      approvers: decision.approvers,
      nowMs: d.now(),
      ttlMs: policy.challengeTtlMs,
      randomBytes: d.randomBytes,
    });
    d.store.transaction(() => {
      d.store.putRequest({ ...resolved, state: 'challenged', challenge: encodeMessage(v1.Challenge, challenge, 'Challenge'), updatedMs: d.now() });
      d.store.addNonce(toHex(challenge.nonce ?? new Uint8Array()), row.requestId, challenge.expiresAtMs ?? 0);
      d.send({ challenge });
    });
  }

  /** Journals `applying` and hands the action to the runner; returns at once. */
  #apply(row: RequestRow, request: CommandRequest, nonceHex?: string): void {
    const d = this.#d;
    const action = request.action ?? 0;
    const params = parseActionParams(action, request.parameters);
    const applying: RequestRow = { ...row, state: 'applying', updatedMs: d.now() };
    d.store.transaction(() => {
      if (nonceHex) d.store.useNonce(nonceHex);
      d.store.putRequest(applying);
    });
    const target = row.target ?? undefined;
    const handedOverMs = d.now();
    const key = target ? `uuid:${target.uuid}` : HOST_LANE;
    const progressAfterMs = d.progressAfterMs ?? 1000;
    this.#actions.submit(
      key,
      async (signal) => {
        // On disk before libvirt is touched: after a crash from here on, the request is reported, never applied again.
        d.store.flush();
        d.onApply?.(request);
        const outcome = await d.executor.execute(action, target, params.ok ? params.params : {}, signal);
        if (signal.aborted) return; // the agent is stopping: stays `applying`, reported ERR_INTERRUPTED at the next start
        if (d.delayAfterApplyMs) await new Promise((resolve) => setTimeout(resolve, d.delayAfterApplyMs));
        const policy = d.policy();
        const domains = outcome.domains?.filter((info) => visibleDomain(policy, request.principal ?? '', info.name ?? ''));
        const result = this.#result(applying.requestId, outcome.outcome, {
          previousState: outcome.previousState,
          newState: outcome.newState,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
          ...(domains ? { domains } : {}),
          ...(outcome.domainInfo ? { domainInfo: outcome.domainInfo } : {}),
          ...this.#targetFields(target),
          ...(outcome.stopMethod ? { stopMethod: outcome.stopMethod } : {}),
          ...(outcome.detail ? { detail: outcome.detail } : {}),
          ...(outcome.domainIdAfter !== undefined ? { domainIdAfter: outcome.domainIdAfter, domainAfterSet: true } : {}),
          durationMs: Math.max(0, d.now() - handedOverMs),
        });
        this.#journal(applying, result);
        // Durable now, not at the link's next Put: a crash from here on reports the real result, not "interrupted".
        d.store.flush();
        d.wake?.();
        d.onApplied?.(request, result);
      },
      {
        slowAfterMs: progressAfterMs,
        onSlow: () => {
          const elapsedMs = Math.max(0, d.now() - handedOverMs);
          const what = target ? `${actionName(action)} of ${target.name}` : actionName(action);
          d.store.transaction(() =>
            d.send({ commandProgress: { requestId: row.requestId, stage: 'applying', detail: `${what} still running after ${elapsedMs} ms`, elapsedMs, timeMs: d.now() } }),
          );
          d.wake?.();
        },
      },
    );
  }

  #targetFields(target: DomainTarget | null | undefined): Partial<CommandResult> {
    return target ? { domainName: target.name, domainUuid: target.uuid } : {};
  }

  #result(requestId: string, outcome: Outcome, fields: Partial<CommandResult>): CommandResult {
    return { requestId, outcome, completedAtMs: this.#d.now(), ...fields };
  }

  #finish(row: RequestRow, outcome: Outcome, fields: Partial<CommandResult>, nonceHex?: string): void {
    this.#journal(row, this.#result(row.requestId, outcome, fields), nonceHex);
  }

  #journal(row: RequestRow, result: CommandResult, nonceHex?: string): void {
    const d = this.#d;
    d.store.transaction(() => {
      if (nonceHex) d.store.useNonce(nonceHex);
      d.store.putRequest({ ...row, state: 'done', result: encodeResult(result), updatedMs: d.now() });
      d.send({ commandResult: result });
    });
  }
}
