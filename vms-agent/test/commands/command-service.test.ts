import { afterEach, describe, expect, it } from 'vitest';
import {
  type Challenge,
  decodeBody,
  decodeMessage,
  encodePublicKey,
  generateSigningKeyPair,
  Outcome,
  DomainState,
  encodeMessage,
  requestDigest,
  signChallenge,
  v1,
  verifyChallengeSignature,
  verifyRequest,
} from '@backchannel/proto';
import { CommandService } from '../../src/commands/command-service.js';
import { ServiceError } from '../../src/errors.js';
import type { Mutation } from '../../src/store/store.js';
import { hostInput, rng, tempStore } from '../helpers/temp-store.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const alice = generateSigningKeyPair(rng); // custodial
const bob = generateSigningKeyPair(rng); // operator-held
const carol = generateSigningKeyPair(rng); // operator-held
const service = generateSigningKeyPair(rng);

async function setup() {
  const t = tempStore();
  cleanups.push(() => t.cleanup());
  let now = 1_800_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const woken: string[] = [];
  const svc = new CommandService({ store: t.store, clock: clock.now, randomBytes: rng, serviceKey: service, wake: (h) => woken.push(h) });
  await t.store.addHost(hostInput('hv-01'), now);
  await t.store.addPrincipal({ name: 'alice', publicKey: encodePublicKey(alice.publicKey), secretKey: alice.secretKey.subarray(0, 32) }, now);
  await t.store.addPrincipal({ name: 'bob', publicKey: encodePublicKey(bob.publicKey) }, now);
  await t.store.addPrincipal({ name: 'carol', publicKey: encodePublicKey(carol.publicKey) }, now);
  return { t, svc, clock, woken, store: t.store };
}

/** What a hypervisor-agent would answer: a challenge for the request in the outbox. */
async function challengeFor(store: Awaited<ReturnType<typeof setup>>['store'], id: string, nowMs: number, k = 1, approvers: string[] = []) {
  const c = await store.getCommand(id);
  const request = decodeMessage(v1.CommandRequest, c!.request, 'CommandRequest');
  return v1.Challenge.create({
    requestId: id,
    nonce: rng(32),
    expiresAtMs: nowMs + 60_000,
    requestDigest: requestDigest(request),
    hostId: 'hv-01',
    approvalsRequired: k,
    approvers,
  });
}

const responseIn = (outbox: { kind: string; body: Uint8Array }[]) =>
  outbox.filter((e) => e.kind === 'challenge_response').map((e) => decodeBody(e.body).challengeResponse!);

describe('CommandService', () => {
  it('issues a command: persisted queued, queued for the host; a custodial request is not signed twice', async () => {
    const { svc, store, woken } = await setup();
    const c = await svc.issue({ principal: 'alice', hostId: 'hv-01', domain: 'db-1', action: 'start', params: { why: 'x' } });
    expect(c.state).toBe('queued');
    expect(woken).toEqual(['hv-01']);
    const outbox = await store.listOutbox('hv-01');
    expect(outbox.map((e) => [e.kind, e.commandId])).toEqual([['command_request', c.id]]);
    const request = decodeBody(outbox[0]!.body).commandRequest!;
    expect(request).toMatchObject({ requestId: c.id, principal: 'alice', domain: 'db-1', hostId: 'hv-01', parameters: { why: 'x' } });
    // alice's key signs the challenge for this request (next tests); the request itself goes unsigned.
    expect(request.principalSignature).toBeNull();
    expect(c.events[0]?.detail).toContain('custodial key: vms-agent signs the challenge');
  });

  it('signs custodial requests with the principal key too when custodialKeySignsRequests is set', async () => {
    const { t } = await setup();
    const signing = new CommandService({ store: t.store, clock: () => 1, randomBytes: rng, custodialKeySignsRequests: true });
    const c = await signing.issue({ principal: 'alice', hostId: 'hv-01', domain: 'db-1', action: 'start' });
    expect(verifyRequest(decodeMessage(v1.CommandRequest, c.request, 'CommandRequest'), alice.publicKey)).toBe(true);
    expect(c.events[0]?.detail).toContain("signed with the principal's custodial key");
  });

  it('signs requests of principals without a custodial key with the service key', async () => {
    const { svc, store } = await setup();
    const c = await svc.issue({ principal: 'bob', hostId: 'hv-01', domain: 'db-1', action: 'shutdown' });
    const request = decodeMessage(v1.CommandRequest, c.request, 'CommandRequest');
    expect(verifyRequest(request, service.publicKey)).toBe(true);
    expect(verifyRequest(request, bob.publicKey)).toBe(false);
    expect((await store.listOutbox('hv-01'))).toHaveLength(1);
  });

  it('leaves requests of operator-held principals unsigned when no service key is configured', async () => {
    const { t } = await setup();
    const bare = new CommandService({ store: t.store, clock: () => 1, randomBytes: rng });
    const c = await bare.issue({ principal: 'bob', hostId: 'hv-01', domain: 'db-1', action: 'shutdown' });
    expect(decodeMessage(v1.CommandRequest, c.request, 'CommandRequest').principalSignature).toBeNull();
    expect(c.events[0]?.detail).toContain('unsigned');
    const a = await bare.issue({ principal: 'alice', hostId: 'hv-01', domain: 'db-1', action: 'start' });
    expect(decodeMessage(v1.CommandRequest, a.request, 'CommandRequest').principalSignature).toBeNull();
  });

  it('refuses unknown actions and hosts with actionable errors', async () => {
    const { svc } = await setup();
    await expect(svc.issue({ principal: 'alice', hostId: 'hv-01', domain: 'd', action: 'explode' })).rejects.toMatchObject({ code: 'UNKNOWN_ACTION' });
    await expect(svc.issue({ principal: 'alice', hostId: 'nope', domain: 'd', action: 'start' })).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
  });

  it('custodial: sent → challenged, signs and queues the response at once, then applied', async () => {
    const { svc, store, clock } = await setup();
    const c = await svc.issue({ principal: 'alice', hostId: 'hv-01', domain: 'db-1', action: 'start' });
    await svc.markSent(c.id, 1);
    clock.advance(100);
    const ch = await challengeFor(store, c.id, clock.now());
    await store.apply(await svc.onChallenge('hv-01', ch));
    const after = await svc.get(c.id);
    expect(after.state).toBe('challenged');
    expect(after.responseSent).toBe(true);
    const [resp] = responseIn(await store.listOutbox('hv-01'));
    expect(resp!.signatures).toHaveLength(1);
    expect(verifyChallengeSignature(ch as Challenge, resp!.signatures![0]!, alice.publicKey)).toBe(true);
    // The nonce names the request: no request_id, so the response fits one record at max_record 200.
    expect(resp!.requestId).toBe('');
    expect(resp!.nonce).toEqual(ch.nonce);
    // the same challenge again changes nothing
    expect(await svc.onChallenge('hv-01', ch)).toEqual([]);
    const result = v1.CommandResult.create({ requestId: c.id, outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_SHUTOFF, newState: DomainState.DOMAIN_STATE_RUNNING });
    await store.apply(await svc.onResult('hv-01', result));
    const done = await svc.get(c.id);
    expect(done.state).toBe('applied');
    expect(done.events.map((e) => e.state)).toEqual(['queued', 'sent', 'challenged', 'challenged', 'applied']);
    expect(await svc.onResult('hv-01', result)).toEqual([]);
  });

  it('operator-held: waits in awaiting_approval, takes a signature made elsewhere, rejects a forged one', async () => {
    const { svc, store, clock } = await setup();
    const c = await svc.issue({ principal: 'bob', hostId: 'hv-01', domain: 'db-1', action: 'destroy' });
    const ch = await challengeFor(store, c.id, clock.now());
    await store.apply(await svc.onChallenge('hv-01', ch));
    expect((await svc.get(c.id)).state).toBe('awaiting_approval');
    expect(responseIn(await store.listOutbox('hv-01'))).toEqual([]);
    await expect(svc.approve(c.id, 'bob', signChallenge(ch, carol))).rejects.toMatchObject({ code: 'INVALID_SIGNATURE' });
    await expect(svc.approve(c.id, 'bob')).rejects.toMatchObject({ code: 'NO_CUSTODIAL_KEY' });
    await expect(svc.approve(c.id, 'carol', signChallenge(ch, carol))).rejects.toMatchObject({ code: 'NOT_AN_APPROVER' });
    const approved = await svc.approve(c.id, 'bob', signChallenge(ch, bob));
    expect(approved.responseSent).toBe(true);
    expect(approved.approvals.map((a) => [a.principal, a.custodial])).toEqual([['bob', false]]);
    const [resp] = responseIn(await store.listOutbox('hv-01'));
    expect(verifyChallengeSignature(ch, resp!.signatures![0]!, bob.publicKey)).toBe(true);
    await expect(svc.approve(c.id, 'bob', signChallenge(ch, bob))).rejects.toBeInstanceOf(ServiceError);
  });

  it('k-of-n: custodial requester signs, two operators complete 3-of-3', async () => {
    const { svc, store, clock } = await setup();
    const c = await svc.issue({ principal: 'alice', hostId: 'hv-01', domain: 'db-1', action: 'reset' });
    const ch = await challengeFor(store, c.id, clock.now(), 3, ['alice', 'bob', 'carol']);
    await store.apply(await svc.onChallenge('hv-01', ch));
    let cur = await svc.get(c.id);
    expect(cur.state).toBe('awaiting_approval');
    expect(cur.approvals.map((a) => a.principal)).toEqual(['alice']);
    cur = await svc.approve(c.id, 'bob', signChallenge(ch, bob));
    expect(cur.responseSent).toBe(false);
    cur = await svc.approve(c.id, 'carol', signChallenge(ch, carol));
    expect(cur.responseSent).toBe(true);
    const [resp] = responseIn(await store.listOutbox('hv-01'));
    expect(resp!.signatures).toHaveLength(3);
    const keys = [alice, bob, carol].map((k) => k.publicKey);
    for (const [i, s] of resp!.signatures!.entries()) expect(verifyChallengeSignature(ch, s, keys[i]!)).toBe(true);
  });

  it('expires unanswered challenges by the injected clock, and refuses late approvals', async () => {
    const { svc, store, clock } = await setup();
    const c = await svc.issue({ principal: 'bob', hostId: 'hv-01', domain: 'db-1', action: 'reboot' });
    const ch = await challengeFor(store, c.id, clock.now());
    await store.apply(await svc.onChallenge('hv-01', ch));
    clock.advance(59_999);
    expect(await svc.expireDue()).toEqual([]);
    clock.advance(1);
    await expect(svc.approve(c.id, 'bob', signChallenge(ch, bob))).rejects.toMatchObject({ code: 'CHALLENGE_EXPIRED' });
    expect(await svc.expireDue()).toEqual([c.id]);
    expect((await svc.get(c.id)).state).toBe('expired');
  });

  it("judges a challenge's expiry on our clock through the host's learned clock offset (a host 10 min behind, no NTP)", async () => {
    const { svc, store, clock } = await setup();
    const behind = -10 * 60_000;
    // What the link stores with the replay window: the host's clock minus ours.
    await store.apply([{ kind: 'inbound.window', hostId: 'hv-01', window: { highest: 0, cumulative: 0, bitmap: new Uint8Array(8), size: 64, peer: { offsetMs: behind, incarnations: [] } }, atMs: clock.now() }]);
    expect(await svc.hostClockOffsetMs('hv-01')).toBe(behind);
    const c = await svc.issue({ principal: 'bob', hostId: 'hv-01', domain: 'db-1', action: 'reboot' });
    const ch = await challengeFor(store, c.id, clock.now() + behind); // expires 60 s after the host's now
    await store.apply(await svc.onChallenge('hv-01', ch));
    clock.advance(30_000);
    expect(await svc.expireDue()).toEqual([]);
    const cur = await svc.approve(c.id, 'bob', signChallenge(ch, bob));
    expect(cur.responseSent).toBe(true);
  });

  it("a host 10 min behind: an unanswered challenge still expires 60 s after it was issued, on the host's time", async () => {
    const { svc, store, clock } = await setup();
    await store.apply([{ kind: 'inbound.window', hostId: 'hv-01', window: { highest: 0, cumulative: 0, bitmap: new Uint8Array(8), size: 64, peer: { offsetMs: -600_000, incarnations: [] } }, atMs: clock.now() }]);
    const c = await svc.issue({ principal: 'bob', hostId: 'hv-01', domain: 'db-1', action: 'reboot' });
    await store.apply(await svc.onChallenge('hv-01', await challengeFor(store, c.id, clock.now() - 600_000)));
    clock.advance(59_999);
    expect(await svc.expireDue()).toEqual([]);
    clock.advance(1);
    expect(await svc.expireDue()).toEqual([c.id]);
  });

  it('ignores a challenge that does not match the request sent, and results for other hosts', async () => {
    const { svc, store, clock } = await setup();
    const c = await svc.issue({ principal: 'alice', hostId: 'hv-01', domain: 'db-1', action: 'start' });
    const ch = await challengeFor(store, c.id, clock.now());
    ch.requestDigest = rng(32);
    const m: Mutation[] = await svc.onChallenge('hv-01', ch);
    expect(m.map((x) => x.kind)).toEqual(['command.event']);
    expect(await svc.onChallenge('hv-02', ch)).toEqual([]);
    expect(await svc.onResult('hv-02', v1.CommandResult.create({ requestId: c.id, outcome: Outcome.OUTCOME_APPLIED }))).toEqual([]);
  });

  it('puts a host\'s "still applying" on the command\'s trail, until the command is final', async () => {
    const { svc, store } = await setup();
    const c = await svc.issue({ principal: 'alice', hostId: 'hv-01', domain: 'web-1', action: 'shutdown' });
    const progress = v1.CommandProgress.create({ requestId: c.id, stage: 'applying', detail: 'shutdown of web-1 still running after 1000 ms', elapsedMs: 1000 });
    expect(await svc.onProgress('hv-02', progress)).toEqual([]);
    await store.apply(await svc.onProgress('hv-01', progress));
    const during = await svc.get(c.id);
    expect(during.state).toBe('queued');
    expect(during.events.at(-1)).toMatchObject({ kind: 'applying', detail: 'shutdown of web-1 still running after 1000 ms' });
    await store.apply(await svc.onResult('hv-01', v1.CommandResult.create({ requestId: c.id, outcome: Outcome.OUTCOME_APPLIED })));
    expect(await svc.onProgress('hv-01', progress)).toEqual([]);
  });

  it("updates the host's stored status for the acted-on domain from a result that gives it, in the same mutations", async () => {
    const { svc, store, clock } = await setup();
    const report = v1.StatusReport.create({ hostId: 'hv-01', timeMs: clock.now(), reportSeq: 1, domains: [{ name: 'web-1', uuid: 'u-web-1', state: DomainState.DOMAIN_STATE_RUNNING, id: 4 }] });
    await store.apply([{ kind: 'status.upsert', status: { hostId: 'hv-01', report: encodeMessage(v1.StatusReport, report, 'StatusReport'), reportSeq: 1, timeMs: clock.now(), receivedAtMs: clock.now() } }]);
    const c = await svc.issue({ principal: 'alice', hostId: 'hv-01', domain: 'web-1', action: 'destroy' });
    const result = v1.CommandResult.create({ requestId: c.id, outcome: Outcome.OUTCOME_APPLIED, newState: DomainState.DOMAIN_STATE_SHUTOFF, completedAtMs: clock.now() + 10, domainUuid: 'u-web-1', domainName: 'web-1', domainIdAfter: -1, domainAfterSet: true });
    const m = await svc.onResult('hv-01', result);
    expect(m.map((x) => x.kind)).toEqual(['command.transition', 'status.upsert']);
    await store.apply(m);
    const stored = decodeMessage(v1.StatusReport, (await store.getStatus('hv-01'))!.report, 'StatusReport');
    expect(stored.domains.map((d) => [d.name, d.state, d.id])).toEqual([['web-1', DomainState.DOMAIN_STATE_SHUTOFF, -1]]);
    // A repeated result is not news.
    expect(await svc.onResult('hv-01', result)).toEqual([]);
  });

  it('maps a denied result to denied, with the reason in the trail', async () => {
    const { svc, store } = await setup();
    const c = await svc.issue({ principal: 'bob', hostId: 'hv-01', domain: 'db-1', action: 'destroy' });
    await store.apply(await svc.onResult('hv-01', v1.CommandResult.create({ requestId: c.id, outcome: Outcome.OUTCOME_DENIED, errorCode: 'POLICY_DENIED', errorMessage: 'bob may not destroy db-1' })));
    const d = await svc.get(c.id);
    expect(d.state).toBe('denied');
    expect(d.events.at(-1)?.detail).toContain('bob may not destroy db-1');
  });
});
