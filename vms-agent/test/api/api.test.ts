import { afterEach, describe, expect, it } from 'vitest';
import { AlertKind, decodeMessage, DomainState, encodeMessage, Outcome, requestDigest, signChallenge, v1 } from '@backchannel/proto';
import { apiFixture } from '../helpers/api-fixture.js';
import { rng } from '../helpers/temp-store.js';

let fx: Awaited<ReturnType<typeof apiFixture>> | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
async function setup() {
  fx = await apiFixture((host) => (host === 'hv-01' ? { state: 'up', since: 1, lastError: null, unacked: 2, lastReceiveAtMs: 5 } : undefined));
  return fx;
}

async function challenge(f: NonNullable<typeof fx>, id: string, k = 1, approvers: string[] = []) {
  const c = await f.store.getCommand(id);
  const ch = v1.Challenge.create({
    requestId: id, nonce: rng(32), expiresAtMs: f.clock.now() + 60_000, hostId: 'hv-01', approvalsRequired: k, approvers,
    requestDigest: requestDigest(decodeMessage(v1.CommandRequest, c!.request, 'CommandRequest')),
  });
  await f.store.apply(await f.commands.onChallenge('hv-01', ch));
  return ch;
}

describe('authentication', () => {
  const routes: [string, string, unknown?][] = [
    ['POST', '/v1/hosts/hv-01/domains/db-1/actions', { action: 'start' }],
    ['GET', '/v1/commands/abc'],
    ['GET', '/v1/commands'],
    ['POST', '/v1/commands/abc/approvals', {}],
    ['GET', '/v1/hosts'],
    ['GET', '/v1/hosts/hv-01/domains'],
    ['GET', '/v1/alerts'],
    ['POST', '/v1/alerts/1/ack'],
    ['GET', '/metrics'],
  ];
  it.each(routes)('%s %s without a token is 401 UNAUTHENTICATED', async (method, url, payload) => {
    const f = await setup();
    const res = await f.app.inject({ method: method as 'GET', url, ...(payload ? { payload: payload as object } : {}) });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('tokens create') });
  });

  it('rejects an unknown token, and says what is wrong with a malformed header', async () => {
    const f = await setup();
    const unknown = await f.app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization: `Bearer bct_${'A'.repeat(43)}` } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('unknown token') });
    const cases: [string, RegExp][] = [
      ['Bearer bct_not-a-real-token-at-all', /not a vms-agent token/],
      [`Bearer "${f.tokens.alice}"`, /tokens begin with "bct_"/],
      [`Bearer ${f.tokens.alice!.slice(0, -1)}`, /is 46 characters/],
      ['Basic YWxpY2U6cHc=', /scheme is "Basic", not Bearer/],
      ['Bearer', /carries no token/],
      [f.tokens.alice!, /scheme is "bct_/],
    ];
    for (const [authorization, why] of cases) {
      const res = await f.app.inject({ method: 'GET', url: '/v1/hosts', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json(), authorization).toMatchObject({ code: 'TOKEN_MALFORMED', message: expect.stringMatching(why) });
      expect(res.json().message).not.toContain('missing bearer token');
    }
  });

  it('serves /healthz and /openapi.json without a token', async () => {
    const f = await setup();
    const h = await f.app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toEqual({ status: 'ok', hosts: 1, linksUp: 1 });
    const doc = await f.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode).toBe(200);
    const spec = doc.json();
    expect(spec.openapi).toBe('3.0.3');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/hosts/{host}/domains/{domain}/actions', '/v1/commands/{id}', '/v1/commands/{id}/approvals', '/v1/hosts', '/v1/hosts/{host}/domains', '/v1/alerts', '/v1/alerts/{id}/ack', '/healthz', '/metrics']),
    );
    // The name grammars are in the document, for clients to check before they send.
    const params = spec.paths['/v1/hosts/{host}/domains/{domain}/actions'].post.parameters as { name: string; schema: { format?: string } }[];
    expect(params.find((p) => p.name === 'domain')?.schema.format).toBe('libvirt-domain-name');
    expect(params.find((p) => p.name === 'host')?.schema.format).toBe('host-id');
    expect(spec.paths['/v1/alerts/{id}/ack'].post.requestBody.content['application/json'].schema.required).toEqual(['comment']);
    expect(spec.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
  });

  it('answers unknown routes with NOT_FOUND in the error format', async () => {
    const f = await setup();
    const res = await f.app.inject({ method: 'GET', url: '/v2/nothing', headers: f.as('alice') });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });
});

describe('POST /v1/hosts/{host}/domains/{domain}/actions', () => {
  it('answers 202 with the stored command and a Location header', async () => {
    const f = await setup();
    const res = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start', params: { reason: 'maintenance over' } } });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ hostId: 'hv-01', domain: 'db-1', action: 'start', principal: 'alice', state: 'queued', params: { reason: 'maintenance over' }, challenge: null, result: null });
    expect(res.headers.location).toBe(`/v1/commands/${body.id}`);
    expect((await f.store.getCommand(body.id))?.state).toBe('queued');
  });

  it('?wait=MS stores the command first, then answers 202 once it is final (one request for a synchronous client)', async () => {
    const f = await setup();
    const posting = f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions?wait=20000', headers: f.as('alice'), payload: { action: 'start' } });
    let stored: { id: string } | undefined;
    for (let i = 0; i < 100 && !stored; i++) {
      await new Promise((r) => setTimeout(r, 10));
      stored = (await f.store.listCommands({ hostId: 'hv-01' }))[0];
    }
    expect(stored, 'the command is stored while the POST still waits').toBeDefined();
    const m = await f.commands.onResult('hv-01', v1.CommandResult.create({ requestId: stored!.id, outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_SHUTOFF, newState: DomainState.DOMAIN_STATE_RUNNING, completedAtMs: 5 }));
    await f.store.apply(m);
    f.commands.notifyApplied(m);
    const res = await posting;
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe(`/v1/commands/${stored!.id}`);
    expect(res.json()).toMatchObject({ id: stored!.id, state: 'applied', result: { outcome: 'applied', newState: 'running' } });
    // Without anything happening, the wait runs out and the answer is the command as it stands.
    const queued = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions?wait=50', headers: f.as('alice'), payload: { action: 'shutdown' } });
    expect(queued.statusCode).toBe(202);
    expect(queued.json().state).toBe('queued');
    const bad = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions?wait=99999999', headers: f.as('alice'), payload: { action: 'start' } });
    expect(bad.statusCode).toBe(400);
  });

  it('validates the body', async () => {
    const f = await setup();
    const cases = [{}, { action: 5 }, { action: 'start', extra: true }, { action: 'start', params: { a: 1 } }, { action: '' }];
    for (const payload of cases) {
      const res = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    const bad = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: { ...f.as('alice'), 'content-type': 'application/json' }, payload: '{not json' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
  });

  it('names unknown actions and hosts', async () => {
    const f = await setup();
    const a = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'explode' } });
    expect(a.statusCode).toBe(400);
    expect(a.json()).toMatchObject({ code: 'UNKNOWN_ACTION', message: expect.stringContaining('start') });
    const h = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-99/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start' } });
    expect(h.statusCode).toBe(404);
    expect(h.json().code).toBe('HOST_NOT_FOUND');
  });
});

describe('commands and approvals', () => {
  it('GET /v1/commands/{id} shows the challenge, approvals, result and trail; 404 for unknown ids', async () => {
    const f = await setup();
    const issued = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start' } })).json();
    await challenge(f, issued.id);
    await f.store.apply(await f.commands.onResult('hv-01', v1.CommandResult.create({ requestId: issued.id, outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_SHUTOFF, newState: DomainState.DOMAIN_STATE_RUNNING, completedAtMs: 5 })));
    const res = await f.app.inject({ method: 'GET', url: `/v1/commands/${issued.id}`, headers: f.as('bob') });
    expect(res.statusCode).toBe(200);
    const c = res.json();
    expect(c.state).toBe('applied');
    expect(c.challenge).toMatchObject({ requestId: issued.id, hostId: 'hv-01', approvalsRequired: 1 });
    expect(c.approvals).toEqual([expect.objectContaining({ principal: 'alice', custodial: true })]);
    expect(c.result).toMatchObject({ outcome: 'applied', previousState: 'shutoff', newState: 'running' });
    expect(c.events.map((e: { state: string }) => e.state)).toEqual(['queued', 'challenged', 'challenged', 'applied']);
    const missing = await f.app.inject({ method: 'GET', url: '/v1/commands/nope', headers: f.as('bob') });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('COMMAND_NOT_FOUND');
  });

  it('GET /v1/commands/{id}?wait=MS long-polls: answers when the result is applied, or with the current state after MS', async () => {
    const f = await setup();
    const issued = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start' } })).json();
    const started = performance.now();
    const timedOut = await f.app.inject({ method: 'GET', url: `/v1/commands/${issued.id}?wait=150`, headers: f.as('alice') });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(timedOut.json().state).toBe('queued');
    const waiting = f.app.inject({ method: 'GET', url: `/v1/commands/${issued.id}?wait=20000`, headers: f.as('alice') });
    await new Promise((r) => setTimeout(r, 30));
    await challenge(f, issued.id); // a transition that is not final: the long-poll keeps waiting
    const m = await f.commands.onResult('hv-01', v1.CommandResult.create({ requestId: issued.id, outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_SHUTOFF, newState: DomainState.DOMAIN_STATE_RUNNING, completedAtMs: 5 }));
    const resultAt = performance.now();
    await f.store.apply(m);
    f.commands.notifyApplied(m);
    const res = await waiting;
    expect(performance.now() - resultAt).toBeLessThan(200); // woken by notifyApplied, not by the 250 ms re-read
    expect(res.json()).toMatchObject({ id: issued.id, state: 'applied' });
    const bad = await f.app.inject({ method: 'GET', url: `/v1/commands/${issued.id}?wait=-1`, headers: f.as('alice') });
    expect(bad.statusCode).toBe(400);
  });

  it('GET /v1/commands lists and filters; bad state is a validation error', async () => {
    const f = await setup();
    await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start' } });
    const list = await f.app.inject({ method: 'GET', url: '/v1/commands?host=hv-01&state=queued', headers: f.as('alice') });
    expect(list.json().commands).toHaveLength(1);
    const none = await f.app.inject({ method: 'GET', url: '/v1/commands?state=applied', headers: f.as('alice') });
    expect(none.json().commands).toHaveLength(0);
    const bad = await f.app.inject({ method: 'GET', url: '/v1/commands?state=bogus', headers: f.as('alice') });
    expect(bad.statusCode).toBe(400);
  });

  it('POST /v1/commands/{id}/approvals takes an operator-held signature and queues the response', async () => {
    const f = await setup();
    const issued = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('bob'), payload: { action: 'destroy' } })).json();
    const ch = await challenge(f, issued.id);
    const waiting = (await f.app.inject({ method: 'GET', url: `/v1/commands/${issued.id}`, headers: f.as('bob') })).json();
    expect(waiting.state).toBe('awaiting_approval');
    // alice is not an approver of bob's single-approver challenge
    const wrong = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('alice'), payload: {} });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('NOT_AN_APPROVER');
    const forged = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('bob'), payload: { signature: Buffer.from(signChallenge(ch, f.keys.alice!).signature!).toString('base64') } });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().code).toBe('INVALID_SIGNATURE');
    const custodial = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('bob'), payload: {} });
    expect(custodial.json()).toMatchObject({ code: 'NO_CUSTODIAL_KEY', message: expect.stringContaining('vms-agent approve') });
    const sig = Buffer.from(signChallenge(ch, f.keys.bob!).signature!).toString('base64');
    const ok = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('bob'), payload: { signature: sig } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ responseSent: true, approvals: [expect.objectContaining({ principal: 'bob', custodial: false })] });
    const again = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('bob'), payload: { signature: sig } });
    expect(again.statusCode).toBe(409);
  });

  it('validates approvals and reports unknown commands and the wrong state', async () => {
    const f = await setup();
    const bad = await f.app.inject({ method: 'POST', url: '/v1/commands/x/approvals', headers: f.as('bob'), payload: { signature: 'short' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    const missing = await f.app.inject({ method: 'POST', url: '/v1/commands/x/approvals', headers: f.as('bob'), payload: {} });
    expect(missing.statusCode).toBe(404);
    const issued = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('bob'), payload: { action: 'start' } })).json();
    const early = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('bob'), payload: {} });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('NOT_AWAITING_APPROVAL');
  });

  it('k-of-n through the API: custodial alice and operator bob make 2 of 2', async () => {
    const f = await setup();
    const issued = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('bob'), payload: { action: 'reset' } })).json();
    const ch = await challenge(f, issued.id, 2, ['alice', 'bob']);
    const first = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('alice'), payload: {} });
    expect(first.json()).toMatchObject({ state: 'awaiting_approval', responseSent: false });
    const sig = Buffer.from(signChallenge(ch, f.keys.bob!).signature!).toString('base64');
    const second = await f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: f.as('bob'), payload: { signature: sig } });
    expect(second.json()).toMatchObject({ responseSent: true });
    expect(second.json().approvals.map((a: { principal: string }) => a.principal)).toEqual(['alice', 'bob']);
  });
});

describe('hosts, domains, alerts, metrics', () => {
  it('GET /v1/hosts shows link health and status age', async () => {
    const f = await setup();
    const report = v1.StatusReport.create({ hostId: 'hv-01', timeMs: f.clock.now(), reportSeq: 3, hypervisor: 'Test', domains: [{ name: 'db-1', uuid: 'u1', state: DomainState.DOMAIN_STATE_RUNNING, vcpus: 2, memoryKib: 1024, id: 1 }] });
    await f.store.apply([{ kind: 'status.upsert', status: { hostId: 'hv-01', report: encodeMessage(v1.StatusReport, report, 'StatusReport'), reportSeq: 3, timeMs: f.clock.now(), receivedAtMs: f.clock.now() } }]);
    f.clock.advance(1500);
    const res = await f.app.inject({ method: 'GET', url: '/v1/hosts', headers: f.as('alice') });
    expect(res.statusCode).toBe(200);
    const [h] = res.json().hosts;
    expect(h).toMatchObject({ id: 'hv-01', bmc: { address: '127.0.0.1', port: 9623, user: 'oper' }, link: { state: 'up', unacked: 2 }, status: { ageMs: 1500, reportSeq: 3 } });
    expect(JSON.stringify(res.json())).not.toContain('secret-password');
    const d = await f.app.inject({ method: 'GET', url: '/v1/hosts/hv-01/domains', headers: f.as('alice') });
    expect(d.json()).toMatchObject({ hostId: 'hv-01', ageMs: 1500, hypervisor: 'Test', domains: [{ name: 'db-1', state: 'running', vcpus: 2, memoryKib: 1024, id: 1 }] });
  });

  it('GET /v1/hosts/{host}/domains: unknown host, and no report yet', async () => {
    const f = await setup();
    expect((await f.app.inject({ method: 'GET', url: '/v1/hosts/zz/domains', headers: f.as('alice') })).json().code).toBe('HOST_NOT_FOUND');
    const r = await f.app.inject({ method: 'GET', url: '/v1/hosts/hv-01/domains', headers: f.as('alice') });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('NO_STATUS_YET');
  });

  it('GET /v1/alerts filters; POST /v1/alerts/{id}/ack records who; validation and 404', async () => {
    const f = await setup();
    const alert = (id: string, kind: string, principal: string, at: number) => ({
      kind: 'alert.insert' as const,
      alert: { alertId: id, hostId: 'hv-01', kind, principal, action: 'destroy', domain: 'db-1', reason: 'r', timeMs: at, requestId: '', signatureStatus: 'verified' as const, receivedAtMs: at, raw: encodeMessage(v1.Alert, { id, kind: AlertKind.ALERT_KIND_REPLAY }, 'Alert') },
    });
    await f.store.apply([alert('a1', 'action_not_permitted', 'mallory', 100), alert('a2', 'replay', '', 200)]);
    const get = (q: string) => f.app.inject({ method: 'GET', url: `/v1/alerts${q}`, headers: f.as('alice') });
    expect((await get('')).json().alerts.map((a: { alertId: string }) => a.alertId)).toEqual(['a2', 'a1']);
    expect((await get('?kind=replay')).json().alerts).toHaveLength(1);
    expect((await get('?principal=mallory&host=hv-01')).json().alerts).toHaveLength(1);
    expect((await get('?since=150')).json().alerts).toHaveLength(1);
    const id = (await get('?kind=action_not_permitted')).json().alerts[0].id;
    const ack = await f.app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: f.as('sec'), payload: { comment: 'mallory is a red-team account' } });
    expect(ack.json()).toMatchObject({ acknowledged: true, acknowledgedBy: 'sec', acknowledgedAtMs: f.clock.now(), acknowledgedComment: 'mallory is a red-team account' });
    expect((await get('?acknowledged=false')).json().alerts.map((a: { alertId: string }) => a.alertId)).toEqual(['a2']);
    expect((await get('?acknowledged=maybe')).statusCode).toBe(400);
    expect((await get('?since=-5')).statusCode).toBe(400);
    const missing = await f.app.inject({ method: 'POST', url: '/v1/alerts/999/ack', headers: f.as('sec'), payload: { comment: 'x' } });
    expect(missing.json().code).toBe('ALERT_NOT_FOUND');
    const badId = await f.app.inject({ method: 'POST', url: '/v1/alerts/abc/ack', headers: f.as('sec'), payload: { comment: 'x' } });
    expect(badId.statusCode).toBe(400);
    for (const payload of [{}, { comment: '' }, { comment: '   ' }, { comment: 'ok', extra: 1 }, { comment: 'bell\u0007' }]) {
      const bad = await f.app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: f.as('sec'), payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(bad.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('GET /metrics is Prometheus text and counts requests', async () => {
    const f = await setup();
    await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start' } });
    const res = await f.app.inject({ method: 'GET', url: '/metrics', headers: f.as('alice') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('vms_agent_commands_issued_total{action="start"} 1');
    expect(res.body).toContain('vms_agent_http_requests_total{method="POST",route="/v1/hosts/:host/domains/:domain/actions",status="202"} 1');
  });
});
