import { join, resolve } from 'node:path';
import {
  Action,
  AlertKind,
  type Body,
  type Challenge,
  type ChallengeResponse,
  type CommandRequest,
  DomainState,
  Outcome,
  signChallenge,
  signRequest,
  v1,
  type SigningKeyPair,
} from '@backchannel/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertFacts } from '../src/alerts/alert-factory.js';
import { CommandProcessor } from '../src/agent/command-processor.js';
import { LibvirtAdapter } from '../src/libvirt/libvirt-adapter.js';
import { compilePolicy } from '../src/policy/policy.js';
import { AgentStore } from '../src/store/agent-store.js';
import { makePolicyJson, makePrincipals, rnd } from './helpers/keys.js';
import { tempDir } from './helpers/temp-dir.js';

const FIXTURE_URI = `test://${resolve(import.meta.dirname, 'fixtures/node.xml')}`;
const keys = makePrincipals();
const policy = compilePolicy(makePolicyJson(keys));

class Harness {
  clock = 1_700_000_000_000;
  sent: Body[] = [];
  alerts: AlertFacts[] = [];
  applied: string[] = [];
  readonly processor: CommandProcessor;
  constructor(
    readonly store: AgentStore,
    readonly libvirt: LibvirtAdapter,
  ) {
    this.processor = new CommandProcessor({
      hostId: 'hv-1',
      store,
      policy: () => policy,
      executor: libvirt,
      now: () => this.clock,
      randomBytes: rnd,
      send: (body) => this.sent.push(body),
      alert: (facts) => this.alerts.push(facts),
      onApply: (r) => this.applied.push(r.requestId ?? ''),
    });
  }
  /** Hands a request over, then waits for the look-ups and actions it started (they run beside the caller). */
  async request(r: CommandRequest): Promise<void> {
    await this.processor.handleRequest(r);
    await this.processor.idle();
  }
  async respond(r: ChallengeResponse): Promise<void> {
    await this.processor.handleChallengeResponse(r);
    await this.processor.idle();
  }
  lastChallenge(): Challenge {
    const c = [...this.sent].reverse().find((b) => b.challenge)?.challenge;
    if (!c) throw new Error('no challenge sent');
    return c;
  }
  results() {
    return this.sent.filter((b) => b.commandResult).map((b) => b.commandResult!);
  }
}

const wire = (r: unknown) => Buffer.from(v1.CommandResult.encode(r as Parameters<typeof v1.CommandResult.encode>[0]).finish()).toString('hex');

let seq = 0;
function request(principal: string, action: Action, domain: string): CommandRequest {
  seq += 1;
  return { requestId: `req-${seq}`, principal, action, domain, hostId: 'hv-1', issuedAtMs: 1_700_000_000_000 };
}
const respond = (c: Challenge, ...signers: SigningKeyPair[]) => ({ requestId: c.requestId, nonce: c.nonce, signatures: signers.map((s) => signChallenge(c, s)) });

describe('CommandProcessor (request-challenge-verify with an injected clock)', () => {
  let h: Harness;
  beforeEach(async () => {
    const lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000, shutdownPollMs: 5 });
    await lv.connect();
    h = new Harness(new AgentStore(':memory:'), lv);
  });
  afterEach(async () => {
    await h.libvirt.close();
    h.store.close();
  });

  it('challenges an allowed request, applies it after a valid signature, and journals the result', async () => {
    const req = request('alice', Action.ACTION_SHUTDOWN, 'web-1');
    await h.request(req);
    const challenge = h.lastChallenge();
    expect(challenge).toMatchObject({ requestId: req.requestId, hostId: 'hv-1', approvalsRequired: 1, approvers: ['alice'], expiresAtMs: h.clock + 60_000 });
    expect(challenge.nonce).toHaveLength(32);
    expect(h.applied).toEqual([]);
    h.clock += 5_000;
    await h.respond(respond(challenge, keys.alice));
    expect(h.applied).toEqual([req.requestId]);
    expect(h.results()).toEqual([
      expect.objectContaining({ requestId: req.requestId, outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_RUNNING, newState: DomainState.DOMAIN_STATE_SHUTOFF }),
    ]);
    expect(h.store.getRequest(req.requestId!)?.state).toBe('done');
    expect(h.alerts).toEqual([]);
  });

  it('returns the stored result for a repeated request and never applies it twice', async () => {
    const req = request('alice', Action.ACTION_SUSPEND, 'web-1');
    await h.request(req);
    await h.respond(respond(h.lastChallenge(), keys.alice));
    await h.request(req);
    await h.request(req);
    expect(h.applied).toEqual([req.requestId]);
    const results = h.results();
    expect(results).toHaveLength(3);
    expect(wire(results[1])).toEqual(wire(results[0]));
    expect(wire(results[2])).toEqual(wire(results[0]));
  });

  it('resends the same challenge for a repeated request still awaiting its response', async () => {
    const req = request('alice', Action.ACTION_START, 'web-2');
    await h.request(req);
    const first = h.lastChallenge();
    await h.request(req);
    expect(h.lastChallenge().nonce).toEqual(first.nonce);
  });

  it('denies an unknown principal and a forbidden action with alerts and DENIED results', async () => {
    await h.request(request('eve', Action.ACTION_START, 'web-2'));
    await h.request(request('alice', Action.ACTION_START, 'db-1'));
    expect(h.alerts.map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL, AlertKind.ALERT_KIND_ACTION_NOT_PERMITTED]);
    expect(h.results().map((r) => [r.outcome, r.errorCode])).toEqual([
      [Outcome.OUTCOME_DENIED, 'ERR_UNKNOWN_PRINCIPAL'],
      [Outcome.OUTCOME_DENIED, 'ERR_NOT_PERMITTED'],
    ]);
    expect(h.applied).toEqual([]);
  });

  it('needs k distinct approvers for a k-of-n action, gathered across responses', async () => {
    const req = request('bob', Action.ACTION_DESTROY, 'db-1');
    await h.request(req);
    const challenge = h.lastChallenge();
    expect(challenge).toMatchObject({ approvalsRequired: 2, approvers: ['alice', 'bob', 'carol'] });
    await h.respond(respond(challenge, keys.bob));
    await h.respond(respond(challenge, keys.bob));
    expect(h.applied).toEqual([]);
    expect(h.store.getRequest(req.requestId!)?.approvals).toEqual(['bob']);
    await h.respond(respond(challenge, keys.carol));
    expect(h.applied).toEqual([req.requestId]);
    expect(h.results()[0]).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_PAUSED, newState: DomainState.DOMAIN_STATE_SHUTOFF });
  });

  it('raises bad-signature for a signature by a key that is not an approver, and denies', async () => {
    const req = request('alice', Action.ACTION_START, 'web-2');
    await h.request(req);
    await h.respond(respond(h.lastChallenge(), keys.mallory));
    expect(h.alerts.map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_BAD_SIGNATURE]);
    expect(h.results()[0]).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_BAD_SIGNATURE' });
    expect(h.applied).toEqual([]);
  });

  it('raises bad-signature for a request whose principal signature does not verify', async () => {
    const req = request('alice', Action.ACTION_START, 'web-2');
    req.principalSignature = signRequest(req, keys.mallory);
    await h.request(req);
    expect(h.alerts.map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_BAD_SIGNATURE]);
    expect(h.results()[0]?.outcome).toBe(Outcome.OUTCOME_DENIED);
  });

  it('raises challenge-expired for a response after the expiry, and EXPIRED is final', async () => {
    const req = request('alice', Action.ACTION_START, 'web-2');
    await h.request(req);
    const challenge = h.lastChallenge();
    h.clock += 60_001;
    await h.respond(respond(challenge, keys.alice));
    expect(h.alerts.map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_CHALLENGE_EXPIRED]);
    expect(h.results()[0]).toMatchObject({ outcome: Outcome.OUTCOME_EXPIRED });
    await h.respond(respond(challenge, keys.alice));
    expect(h.alerts.map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_CHALLENGE_EXPIRED, AlertKind.ALERT_KIND_CHALLENGE_EXPIRED]);
    expect(h.applied).toEqual([]);
  });

  it('takes a response without a request id (the nonce names the request), and refuses one naming another request', async () => {
    const first = request('alice', Action.ACTION_SUSPEND, 'web-1');
    await h.request(first);
    const firstChallenge = h.lastChallenge();
    const other = request('alice', Action.ACTION_RESUME, 'web-1');
    await h.request(other);
    // The nonce of the first request, but naming the second: refused, nothing applied.
    await h.respond({ ...respond(firstChallenge, keys.alice), requestId: other.requestId });
    expect(h.alerts.map((a) => [a.kind, a.requestId])).toEqual([[AlertKind.ALERT_KIND_BAD_SIGNATURE, other.requestId]]);
    expect(h.applied).toEqual([]);
    // The same response with no request id at all (what vms-agent sends): applied to the nonce's request.
    await h.respond({ nonce: firstChallenge.nonce, signatures: [signChallenge(firstChallenge, keys.alice)] });
    expect(h.applied).toEqual([first.requestId]);
    expect(h.results()).toEqual([expect.objectContaining({ requestId: first.requestId, outcome: Outcome.OUTCOME_APPLIED })]);
    // An unknown nonce without a request id: an alert that names no request.
    await h.respond({ nonce: new Uint8Array(32).fill(9), signatures: [signChallenge(firstChallenge, keys.alice)] });
    expect(h.alerts.at(-1)).toMatchObject({ kind: AlertKind.ALERT_KIND_BAD_SIGNATURE, requestId: '', reason: 'challenge response names a nonce this host never issued' });
  });

  it('raises nonce-reused when a consumed challenge is answered again', async () => {
    const req = request('alice', Action.ACTION_REBOOT, 'web-1');
    await h.request(req);
    const response = respond(h.lastChallenge(), keys.alice);
    await h.respond(response);
    await h.respond(response);
    expect(h.alerts.map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_NONCE_REUSED]);
    expect(h.applied).toEqual([req.requestId]);
  });

  it('answers read-only requests at once, filtered to what the principal may see', async () => {
    const restricted = compilePolicy(makePolicyJson(keys, { roles: { operator: { actions: ['list_domains'], domains: ['web-*'] }, viewer: { actions: [], domains: [] }, admin: { actions: [], domains: [] } } }));
    const p = new CommandProcessor({ hostId: 'hv-1', store: h.store, policy: () => restricted, executor: h.libvirt, now: () => h.clock, randomBytes: rnd, send: (b) => h.sent.push(b), alert: (a) => h.alerts.push(a) });
    await p.handleRequest(request('alice', Action.ACTION_LIST_DOMAINS, ''));
    await p.idle();
    expect(h.sent.some((b) => b.challenge)).toBe(false);
    expect(h.results()[0]?.domains?.map((d) => d.name)).toEqual(['web-1', 'web-2']);
  });

  it('expires unanswered challenges in the sweep without an alert', async () => {
    await h.request(request('alice', Action.ACTION_START, 'web-2'));
    expect(h.processor.sweepExpired()).toBe(0);
    h.clock += 61_000;
    expect(h.processor.sweepExpired()).toBe(1);
    expect(h.results()[0]?.outcome).toBe(Outcome.OUTCOME_EXPIRED);
    expect(h.alerts).toEqual([]);
  });
});

describe('exactly-once journal across a restart (SQLite file)', () => {
  it('a new processor on the same store returns the stored result without applying', async () => {
    const path = join(tempDir('agent-store-'), 'state.db');
    const lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000 });
    const first = new Harness(new AgentStore(path), lv);
    const req = request('alice', Action.ACTION_DESTROY, 'web-1');
    await first.request(req);
    await first.respond(respond(first.lastChallenge(), keys.alice));
    first.store.close();

    const second = new Harness(new AgentStore(path), lv);
    await second.request(req);
    expect(second.applied).toEqual([]);
    expect(wire(second.results()[0])).toEqual(wire(first.results()[0]));
    second.store.close();
    await lv.close();
  });

  it('reports a request interrupted mid-apply as FAILED and never retries it', async () => {
    const path = join(tempDir('agent-store-'), 'state.db');
    const store = new AgentStore(path);
    const req = request('alice', Action.ACTION_START, 'web-2');
    const lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000 });
    const h1 = new Harness(store, lv);
    await h1.request(req);
    // Simulate the crash point: the row is marked applying, then the process dies.
    const row = store.getRequest(req.requestId!)!;
    store.putRequest({ ...row, state: 'applying' });
    store.close();

    const h2 = new Harness(new AgentStore(path), lv);
    expect(await h2.processor.recoverInterrupted(async (d) => (await lv.domainInfo(d)).state ?? DomainState.DOMAIN_STATE_NOSTATE)).toBe(1);
    expect(h2.results()[0]).toMatchObject({ requestId: req.requestId, outcome: Outcome.OUTCOME_FAILED, errorCode: 'ERR_INTERRUPTED', newState: DomainState.DOMAIN_STATE_SHUTOFF });
    await h2.request(req);
    expect(h2.applied).toEqual([]);
    h2.store.close();
    await lv.close();
  });
});
