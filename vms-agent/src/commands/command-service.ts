/**
 * What happens to commands, between the API, the store and the links.
 * Every change is written to the store (with its event) before anyone is
 * told about it. Inbound payloads from a host are turned into store
 * mutations that the link applies in the same transaction as its replay
 * window, so a crash never delivers an effect twice or loses one.
 */
import {
  type Action,
  type backchannel,
  type Challenge,
  type ChallengeResponse,
  type RandomBytes,
  type Signature,
  type SigningKeyPair,
  actionName,
  bytesEqual,
  decodeMessage,
  decodePublicKey,
  encodeBody,
  encodeMessage,
  keyId,
  Outcome,
  parseActionName,
  requestDigest,
  signChallenge,
  signingKeyPairFromSeed,
  signRequest,
  v1,
  verifyChallengeSignature,
} from '@backchannel/proto';
import { ServiceError } from '../errors.js';
import { IdempotencyKeyTakenError } from '../store/idempotency-keys.js';
import type { CommandDetail, Mutation, Store } from '../store/store.js';
import { IDEMPOTENCY_RETENTION_MS, keyReused, requestHash } from './idempotency.js';
import { type CommandState, isFinal, isLocallyExpired, judgeApproval, planChallenge } from './lifecycle.js';
import { statusFromResult } from './status-from-result.js';

export interface CommandServiceOptions {
  store: Store;
  clock: () => number;
  randomBytes: RandomBytes;
  /**
   * vms-agent's own key. When set, it signs the requests of principals
   * whose keys vms-agent does not hold; when absent those requests go
   * unsigned and the operator's challenge signature alone authorises them
   * (hypervisor-agents verify a request signature against the principal's
   * policy keys, so a service-key signature only helps where the agent also
   * accepts the manager keys of its enrollment bundle).
   */
  serviceKey?: SigningKeyPair | undefined;
  /**
   * Sign the requests of custodial principals with their key too (default
   * false). The challenge response already carries that key's signature over
   * the request's digest, which is what the hypervisor-agent acts on; a second
   * signature on the request adds no check, only 87 bytes, and makes a request
   * two BMC records instead of one.
   */
  custodialKeySignsRequests?: boolean;
  /** Called after something was queued for a host, so its link sends it without waiting for a poll. */
  wake?: (hostId: string) => void;
}

export interface IssueInput {
  principal: string;
  hostId: string;
  domain: string;
  action: string;
  params?: Record<string, string>;
}

const OUTCOME_STATE: Partial<Record<Outcome, CommandState>> = {
  [Outcome.OUTCOME_APPLIED]: 'applied',
  [Outcome.OUTCOME_DENIED]: 'denied',
  [Outcome.OUTCOME_FAILED]: 'failed',
  [Outcome.OUTCOME_EXPIRED]: 'expired',
};

/** States in which nothing more happens without a person (or ever): where a long-poll returns. */
const SETTLED: ReadonlySet<CommandState> = new Set<CommandState>(['awaiting_approval', 'applied', 'denied', 'failed', 'expired']);

export class CommandService {
  readonly #o: CommandServiceOptions;
  /** Long-polls waiting for a command to change, by command id. */
  readonly #watchers = new Map<string, Set<() => void>>();
  /** Custodial key pairs by seed: deriving one costs about 0.5 ms, twice per command. */
  readonly #keyPairs = new Map<string, SigningKeyPair>();
  #lastPurgeMs = Number.NEGATIVE_INFINITY;

  constructor(options: CommandServiceOptions) {
    this.#o = options;
  }

  async issue(input: IssueInput): Promise<CommandDetail> {
    return this.#issue(input, []);
  }

  /**
   * `issue` under a client's idempotency key (commands/idempotency.ts): the
   * first request with `key` creates the command and stores the key in the
   * same transaction; a repeat returns that command (`replayed`).
   */
  async issueIdempotent(input: IssueInput, key: string): Promise<{ command: CommandDetail; replayed: boolean }> {
    const hash = requestHash('issue', { host: input.hostId, domain: input.domain, action: input.action, params: input.params ?? {} });
    return this.#once(input.principal, key, 'issue', hash, 202, (record) => this.#issue(input, [record]));
  }

  async #issue(input: IssueInput, before: Mutation[]): Promise<CommandDetail> {
    const { store, clock, randomBytes } = this.#o;
    const action = parseActionName(input.action);
    if (action === undefined) {
      throw new ServiceError('UNKNOWN_ACTION', `unknown action "${input.action}"; use one of ${allActionNames().join(', ')}`);
    }
    if (!(await store.getHost(input.hostId))) {
      throw new ServiceError('HOST_NOT_FOUND', `no host "${input.hostId}"; list them with GET /v1/hosts (vms-agent hosts list)`);
    }
    const now = clock();
    const id = Buffer.from(randomBytes(16)).toString('hex');
    const request: backchannel.v1.ICommandRequest = {
      requestId: id,
      principal: input.principal,
      action,
      domain: input.domain,
      parameters: input.params ?? {},
      issuedAtMs: now,
      hostId: input.hostId,
    };
    const custodial = await store.getPrincipalSecretKey(input.principal);
    const signer = custodial ? (this.#o.custodialKeySignsRequests ? this.#keyPair(custodial) : undefined) : this.#o.serviceKey;
    if (signer) request.principalSignature = signRequest(request, signer);
    const how = signer
      ? `request signed with ${custodial ? "the principal's custodial key" : 'the vms-agent service key'} (key id ${keyId(signer.publicKey)})`
      : custodial
        ? "request unsigned (custodial key: vms-agent signs the challenge for it)"
        : 'request unsigned (operator-held key: the challenge signature authorises it)';
    const requestBytes = encodeMessage(v1.CommandRequest, request, 'CommandRequest');
    await store.apply([
      ...before.map((m) => (m.kind === 'idempotency.insert' ? { ...m, record: { ...m.record, commandId: id } } : m)),
      {
        kind: 'command.insert',
        command: { id, hostId: input.hostId, domain: input.domain, action: actionName(action), params: input.params ?? {}, principal: input.principal, request: requestBytes, createdAtMs: now },
        detail: `issued by ${input.principal}, ${how}`,
      },
      { kind: 'outbox.enqueue', hostId: input.hostId, body: encodeBody({ commandRequest: request }), messageKind: 'command_request', commandId: id, atMs: now },
    ]);
    this.#o.wake?.(input.hostId);
    return (await store.getCommand(id)) as CommandDetail;
  }

  /**
   * The command once it is settled (final, or awaiting approval), or as it
   * stands after `timeoutMs`. Woken by this process's transitions
   * (`notifyApplied`); the store is also re-read every `recheckMs`, for a
   * command whose link runs in another replica.
   */
  async waitSettled(id: string, timeoutMs: number, recheckMs = 250): Promise<CommandDetail> {
    // Real time, not the injected clock: the wait is real timers either way.
    const deadline = performance.now() + timeoutMs;
    // Watching from before the first read to the end: a change announced while a read is in
    // flight (transitions come in bursts: sent, challenged, applied) is not missed until the recheck.
    let changed = false;
    let wakeUp: (() => void) | undefined;
    const watcher = (): void => {
      changed = true;
      wakeUp?.();
    };
    const watchers = this.#watchers.get(id) ?? new Set<() => void>();
    this.#watchers.set(id, watchers);
    watchers.add(watcher);
    try {
      for (;;) {
        changed = false;
        const c = await this.get(id);
        const left = deadline - performance.now();
        if (SETTLED.has(c.state) || left <= 0) return c;
        if (changed) continue;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            wakeUp = undefined;
            resolve();
          };
          const timer = setTimeout(done, Math.min(left, recheckMs));
          wakeUp = done;
        });
      }
    } finally {
      watchers.delete(watcher);
      if (watchers.size === 0 && this.#watchers.get(id) === watchers) this.#watchers.delete(id);
    }
  }

  /** Another replica changed command `id` (PostgreSQL NOTIFY): long-polls on it re-read it now. */
  notifyCommand(id: string): void {
    for (const wake of [...(this.#watchers.get(id) ?? [])]) wake();
  }

  /** Tells long-polls that these mutations were committed. */
  notifyApplied(mutations: readonly Mutation[]): void {
    if (this.#watchers.size === 0) return;
    for (const m of mutations) {
      if (m.kind !== 'command.transition') continue;
      for (const wake of [...(this.#watchers.get(m.id) ?? [])]) wake();
    }
  }

  async get(id: string): Promise<CommandDetail> {
    const c = await this.#o.store.getCommand(id);
    if (!c) throw new ServiceError('COMMAND_NOT_FOUND', `no command "${id}"`);
    return c;
  }

  /**
   * Adds one approval. With `signature` the caller signed the challenge
   * elsewhere (operator-held key; verified here against the caller's
   * registered public key); without, vms-agent signs with the caller's
   * custodial key.
   */
  async approve(id: string, caller: string, signature?: Signature): Promise<CommandDetail> {
    return this.#approve(id, caller, signature, []);
  }

  /** `approve` under a client's idempotency key: a repeat returns the command as it stands, without a second approval. */
  async approveIdempotent(id: string, caller: string, signature: Signature | undefined, key: string): Promise<{ command: CommandDetail; replayed: boolean }> {
    const hash = requestHash('approve', { command: id, keyId: signature?.keyId ?? null, signature: signature?.signature ? Buffer.from(signature.signature).toString('base64') : null });
    return this.#once(caller, key, 'approve', hash, 200, (record) => this.#approve(id, caller, signature, [record]));
  }

  /**
   * Runs `run` once per (principal, key): a stored use of the key with the
   * same request hash returns its command; with another hash, 422. Two
   * requests racing with one key: the store lets one insert the key, the
   * other's whole transaction fails and it returns the winner's command.
   */
  async #once(principal: string, key: string, scope: string, hash: string, status: number, run: (record: Mutation) => Promise<CommandDetail>): Promise<{ command: CommandDetail; replayed: boolean }> {
    const now = this.#o.clock();
    const notBefore = now - IDEMPOTENCY_RETENTION_MS;
    const replay = async (): Promise<{ command: CommandDetail; replayed: boolean } | undefined> => {
      const seen = await this.#o.store.getIdempotencyKey(principal, key, notBefore);
      if (!seen) return undefined;
      if (seen.scope !== scope || seen.requestHash !== hash) throw keyReused(key, seen.scope, scope);
      return { command: await this.get(seen.commandId), replayed: true };
    };
    const first = await replay();
    if (first) return first;
    const record: Mutation = { kind: 'idempotency.insert', record: { principal, key, scope, requestHash: hash, commandId: '', status, createdAtMs: now }, expiredBeforeMs: notBefore };
    try {
      return { command: await run(record), replayed: false };
    } catch (err) {
      if (!(err instanceof IdempotencyKeyTakenError)) throw err;
      const again = await replay();
      if (again) return again;
      throw err;
    }
  }

  async #approve(id: string, caller: string, signature: Signature | undefined, before: Mutation[]): Promise<CommandDetail> {
    const { store, clock } = this.#o;
    const c = await this.get(id);
    const challenge = c.challenge ? decodeMessage(v1.Challenge, c.challenge, 'Challenge') : undefined;
    const verdict = judgeApproval({
      state: c.state,
      approvalsRequired: challenge?.approvalsRequired ?? 1,
      approvers: challenge?.approvers ?? [],
      requester: c.principal,
      alreadySigned: c.approvals.map((a) => a.principal),
      approver: caller,
      challengeExpiresAtMs: (challenge?.expiresAtMs ?? 0) - (await this.hostClockOffsetMs(c.hostId)),
      nowMs: clock(),
    });
    if (!verdict.ok) throw new ServiceError(verdict.code, verdict.message);
    if (!challenge || c.responseSent) throw new ServiceError('NOT_AWAITING_APPROVAL', 'the challenge response has already been sent');
    const principal = await store.getPrincipal(caller);
    if (!principal) throw new ServiceError('FORBIDDEN', `principal "${caller}" is not registered`);
    let sig: Signature;
    let custodial = false;
    if (signature) {
      if (!verifyChallengeSignature(challenge, signature, decodePublicKey(principal.publicKey))) {
        throw new ServiceError('INVALID_SIGNATURE', `the signature does not verify with ${caller}'s registered public key over this command's challenge`);
      }
      sig = signature;
    } else {
      const secret = await store.getPrincipalSecretKey(caller);
      if (!secret) {
        throw new ServiceError('NO_CUSTODIAL_KEY', `vms-agent holds no key for ${caller}; sign on your machine: vms-agent approve ${id} --key FILE`);
      }
      sig = signChallenge(challenge, this.#keyPair(secret));
      custodial = true;
    }
    const now = clock();
    const approval = { principal: caller, keyId: sig.keyId ?? '', signature: sig.signature ?? new Uint8Array(), custodial, atMs: now };
    const mutations: Mutation[] = [...before.map((m) => (m.kind === 'idempotency.insert' ? { ...m, record: { ...m.record, commandId: id } } : m)), { kind: 'approval.insert', commandId: id, approval }];
    if (verdict.complete) {
      const all = [...c.approvals.map((a) => ({ keyId: a.keyId, signature: a.signature })), { keyId: approval.keyId, signature: approval.signature }];
      mutations.push(...this.#respond(c, challenge, all, 'awaiting_approval', now, `approval by ${caller} completes ${all.length} of ${challenge.approvalsRequired || 1}; challenge response queued`));
    } else {
      mutations.push({ kind: 'command.event', id, atMs: now, event: 'approval', detail: `approval by ${caller} (${c.approvals.length + 1} of ${challenge.approvalsRequired || 1})` });
    }
    await store.apply(mutations);
    this.notifyApplied(mutations);
    if (verdict.complete) this.#o.wake?.(c.hostId);
    return this.get(id);
  }

  /** The Put Record of every fragment of a message returned cc 00: commands in it are now `sent`. */
  async markSent(commandId: string, messageId: number): Promise<void> {
    const m = await this.sentMutations(commandId, messageId);
    if (m.length === 0) return;
    await this.#o.store.apply(m);
    this.notifyApplied(m);
  }

  /** The mutations of markSent, for a link that stores them in the same transaction as its outbox bookkeeping. */
  async sentMutations(commandId: string, messageId: number): Promise<Mutation[]> {
    const c = await this.#o.store.getCommand(commandId);
    if (!c || c.state !== 'queued') return [];
    return [{ kind: 'command.transition', id: commandId, from: 'queued', to: 'sent', atMs: this.#o.clock(), detail: `on the BMC's queue 1 as message ${messageId}` }];
  }

  /** Closes unanswered challenges whose expiry passed. Returns the ids expired. (Also forgets idempotency keys past their retention, every few minutes.) */
  async expireDue(): Promise<string[]> {
    const { store, clock } = this.#o;
    const now = clock();
    if (now - this.#lastPurgeMs >= 5 * 60_000) {
      this.#lastPurgeMs = now;
      await store.purgeIdempotencyKeys(now - IDEMPOTENCY_RETENTION_MS);
    }
    const expired: string[] = [];
    const offsets = new Map<string, number>();
    for (const c of await store.listCommands({ states: ['awaiting_approval'] })) {
      const ch = c.challenge ? decodeMessage(v1.Challenge, c.challenge, 'Challenge') : undefined;
      if (!offsets.has(c.hostId)) offsets.set(c.hostId, await this.hostClockOffsetMs(c.hostId));
      if (!isLocallyExpired(c.state, ch ? ch.expiresAtMs - offsets.get(c.hostId)! : undefined, c.responseSent, now)) continue;
      try {
        const m: Mutation[] = [{ kind: 'command.transition', id: c.id, from: 'awaiting_approval', to: 'expired', atMs: now, detail: 'challenge expired before enough approvals arrived' }];
        await store.apply(m);
        this.notifyApplied(m);
        expired.push(c.id);
      } catch (err) {
        if ((err as { code?: string }).code !== 'COMMAND_STATE_CONFLICT') throw err;
      }
    }
    return expired;
  }

  /**
   * The host's clock minus ours as its link last learned it (stored with the replay window, so
   * every replica sees it; 0 before anything was learned). A challenge expires on the host's
   * clock: a host without NTP during an outage may be minutes off, and judging its expiry on
   * our clock would expire every challenge of a host that is behind (docs/protocol.md "Time").
   */
  async hostClockOffsetMs(hostId: string): Promise<number> {
    return (await this.#o.store.getInboundWindow(hostId))?.peer?.offsetMs ?? 0;
  }

  /** Mutations for a Challenge received from `hostId` (applied by the link with its window). */
  async onChallenge(hostId: string, challenge: backchannel.v1.Challenge): Promise<Mutation[]> {
    const { store, clock } = this.#o;
    const now = clock();
    const c = await store.getCommand(challenge.requestId);
    if (!c || c.hostId !== hostId) return [];
    if (c.state !== 'queued' && c.state !== 'sent') return []; // a repeated challenge: the first one counts
    const request = decodeMessage(v1.CommandRequest, c.request, 'CommandRequest');
    if (!bytesEqual(requestDigest(request), challenge.requestDigest) || challenge.hostId !== hostId) {
      return [{ kind: 'command.event', id: c.id, atMs: now, event: 'challenge_rejected', detail: 'challenge does not match the request that was sent (digest or host differ); ignored' }];
    }
    const challengeBytes = encodeMessage(v1.Challenge, challenge, 'Challenge');
    const custodialSeed = await store.getPrincipalSecretKey(c.principal);
    const plan = planChallenge({
      approvalsRequired: challenge.approvalsRequired,
      approvers: challenge.approvers,
      requester: c.principal,
      requesterHasCustodialKey: custodialSeed !== undefined,
      alreadySigned: [],
    });
    const need = Math.max(1, challenge.approvalsRequired);
    const out: Mutation[] = [];
    if (plan.signCustodially && custodialSeed) {
      const sig = signChallenge(challenge, this.#keyPair(custodialSeed));
      out.push({ kind: 'approval.insert', commandId: c.id, approval: { principal: c.principal, keyId: sig.keyId ?? '', signature: sig.signature ?? new Uint8Array(), custodial: true, atMs: now } });
      if (plan.state === 'challenged') {
        out.unshift({ kind: 'command.transition', id: c.id, from: c.state, to: 'challenged', atMs: now, detail: `challenge received (expires ${new Date(challenge.expiresAtMs).toISOString()})`, challenge: challengeBytes });
        out.push(...this.#respond(c, challenge, [sig], 'challenged', now, `signed custodially for ${c.principal}; challenge response queued`));
        return out;
      }
    }
    out.unshift({
      kind: 'command.transition',
      id: c.id,
      from: c.state,
      to: 'awaiting_approval',
      atMs: now,
      detail: `challenge received; waiting for ${need} approval(s) from ${challenge.approvers.length ? challenge.approvers.join(', ') : c.principal}${plan.signCustodially ? ` (${c.principal} signed custodially)` : ''}`,
      challenge: challengeBytes,
    });
    return out;
  }

  /** Mutations for a CommandProgress: an event on the command's trail while the host still applies it (none once it is final). */
  async onProgress(hostId: string, progress: backchannel.v1.CommandProgress): Promise<Mutation[]> {
    const c = await this.#o.store.getCommand(progress.requestId);
    if (!c || c.hostId !== hostId || isFinal(c.state)) return [];
    return [{ kind: 'command.event', id: c.id, atMs: this.#o.clock(), event: progress.stage || 'applying', detail: progress.detail || `still applying after ${progress.elapsedMs} ms` }];
  }

  /** Mutations for a CommandResult; a repeated result changes nothing. */
  async onResult(hostId: string, result: backchannel.v1.CommandResult): Promise<Mutation[]> {
    const c = await this.#o.store.getCommand(result.requestId);
    if (!c || c.hostId !== hostId) return [];
    const to = OUTCOME_STATE[result.outcome] ?? 'failed';
    if (c.state === to || c.state === 'applied' || c.state === 'denied' || c.state === 'failed' || c.state === 'expired') return [];
    const detail = result.errorCode ? `${to}: ${result.errorCode} ${result.errorMessage}` : to;
    const transition: Mutation = { kind: 'command.transition', id: c.id, from: c.state, to, atMs: this.#o.clock(), detail, result: encodeMessage(v1.CommandResult, result, 'CommandResult') };
    const status = result.domainAfterSet ? statusFromResult(await this.#o.store.getStatus(hostId), result) : undefined;
    return status ? [transition, { kind: 'status.upsert', status }] : [transition];
  }

  #keyPair(seed: Uint8Array): SigningKeyPair {
    const k = Buffer.from(seed).toString('base64');
    let pair = this.#keyPairs.get(k);
    if (!pair) {
      if (this.#keyPairs.size >= 256) this.#keyPairs.clear();
      pair = signingKeyPairFromSeed(seed);
      this.#keyPairs.set(k, pair);
    }
    return pair;
  }

  #respond(c: CommandDetail, challenge: Challenge, signatures: Signature[], state: CommandState, now: number, detail: string): Mutation[] {
    // No request_id: the nonce names the request, and without it a single-signature response fits one BMC record.
    const response: ChallengeResponse = { nonce: challenge.nonce ?? new Uint8Array(), signatures };
    return [
      { kind: 'command.transition', id: c.id, from: state, to: state, atMs: now, detail, responseSent: true },
      { kind: 'outbox.enqueue', hostId: c.hostId, body: encodeBody({ challengeResponse: response }), messageKind: 'challenge_response', commandId: c.id, atMs: now },
    ];
  }
}

export function allActionNames(): string[] {
  return Object.values(v1.Action)
    .filter((v): v is number => typeof v === 'number' && v !== 0)
    .map((v) => actionName(v as Action));
}
