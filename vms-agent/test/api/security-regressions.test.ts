/**
 * Issue 13's findings against the manager's API, each reproduced as the
 * attack run did it and shown refused:
 *   1. a NUL (or other byte libvirt reads differently) in a domain name;
 *   3. a principal acknowledging the alert about itself, every token reading
 *      everything;
 *   4. (manager side) a token in the query string written to the log,
 *      duplicate JSON keys (`{"action":"domain_info","action":"destroy"}`).
 * The 0644 store files are in test/store/sqlite-store.test.ts, TLS in tls.test.ts.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertKind, encodeMessage, v1 } from '@backchannel/proto';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { ServiceMetrics } from '../../src/api/metrics.js';
import { findDuplicateKey } from '../../src/api/json-body.js';
import { CommandService } from '../../src/commands/command-service.js';
import { domainNameProblem } from '../../src/names.js';
import type { AlertInput } from '../../src/store/store.js';
import { apiFixture } from '../helpers/api-fixture.js';
import { rng } from '../helpers/temp-store.js';

let fx: Awaited<ReturnType<typeof apiFixture>> | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});
async function setup(logger?: FastifyBaseLogger) {
  fx = await apiFixture(undefined, logger ? { logger } : {});
  return fx;
}

async function nothingStored(f: NonNullable<typeof fx>) {
  expect(await f.store.listCommands({})).toEqual([]);
  expect(await f.store.listOutbox('hv-01')).toEqual([]);
}

describe('finding 1: a domain, host or principal name means one thing (refused at the API before anything is stored)', () => {
  it('refuses db-1%00 and web-1%00-test, the names that bypassed the policy', async () => {
    const f = await setup();
    for (const [domain, shown] of [['db-1%00', 'U+0000'], ['web-1%00-test', 'U+0000']] as const) {
      const res = await f.app.inject({ method: 'POST', url: `/v1/hosts/hv-01/domains/${domain}/actions`, headers: f.as('alice'), payload: { action: 'destroy' } });
      expect(res.statusCode, domain).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining(shown) });
      expect(res.json().message).toContain('params/domain');
    }
    await nothingStored(f);
  });

  it('refuses every other spelling libvirt would not return byte for byte', async () => {
    const f = await setup();
    const refused = [
      'db-1%0A', // LF: libvirt refuses it in names
      'db-1%09', // TAB
      'db-1%7F', // DEL
      'db-1%C2%85', // C1 NEL
      'a%2Fb', // "/" (decoded from %2F)
      'db-1%E2%80%8B', // zero-width space
      'db-1%E2%80%AE', // right-to-left override
      '%EF%BB%BFdb-1', // BOM
      'db%C2%A01', // no-break space
      'db-1%E2%80%A8', // line separator
      'db-1%20', // trailing space
      '%20db-1', // leading space
      'caf%65%CC%81', // "café" in NFD: looks like the NFC name, is other bytes
      'db-1%EF%BF%BF', // noncharacter
      'x'.repeat(252), // longer than libvirt can keep (NAME.xml)
      '%C3%BC'.repeat(126), // 252 bytes too, in 756 characters of URL
      '%ED%A0%80', // a lone surrogate: not UTF-8 at all
      'db-1%zz', // not percent-encoding
    ];
    for (const domain of refused) {
      const res = await f.app.inject({ method: 'POST', url: `/v1/hosts/hv-01/domains/${domain}/actions`, headers: f.as('alice'), payload: { action: 'destroy' } });
      expect(res.statusCode, domain).toBe(400);
      expect(res.json().code, domain).toBe('VALIDATION_FAILED');
    }
    await nothingStored(f);
  });

  it('accepts what libvirt names are: ASCII, inner spaces, NFC letters of any script', async () => {
    const f = await setup();
    for (const domain of ['db-1', 'web_1.test', 'my%20vm', 'caf%C3%A9', '%E6%95%B0%E6%8D%AE%E5%BA%93', 'x'.repeat(251), `${'%C3%BC'.repeat(125)}x`]) {
      const res = await f.app.inject({ method: 'POST', url: `/v1/hosts/hv-01/domains/${domain}/actions`, headers: f.as('alice'), payload: { action: 'domain_info' } });
      expect(res.statusCode, `${domain}: ${res.body}`).toBe(202);
      expect(res.json().domain).toBe(decodeURIComponent(domain));
    }
    expect(domainNameProblem('ü'.repeat(125) + 'x')).toBeUndefined(); // 251 bytes
    expect(domainNameProblem('ü'.repeat(126))).toMatch(/252 bytes/);
  });

  it('refuses host ids and principal names outside their grammar, in paths and in query filters', async () => {
    const f = await setup();
    const cases: [string, string, string][] = [
      ['POST', '/v1/hosts/hv-01%00/domains/db-1/actions', 'params/host'],
      ['GET', '/v1/hosts/hv-01%00/domains', 'params/host'],
      ['GET', '/v1/hosts/hv%2F01/domains', 'params/host'],
      ['GET', '/v1/commands?host=hv-01%00', 'querystring/host'],
      ['GET', '/v1/commands?principal=alice%00', 'querystring/principal'],
      ['GET', '/v1/alerts?principal=mallory%00', 'querystring/principal'],
      ['GET', '/v1/alerts?host=hv-01%0A', 'querystring/host'],
      ['GET', '/v1/alerts?kind=replay%00', 'querystring/kind'],
      ['GET', '/v1/commands/abc%00', 'params/id'],
    ];
    for (const [method, url, field] of cases) {
      const res = await f.app.inject({ method: method as 'GET', url, headers: f.as('vic'), ...(method === 'POST' ? { payload: { action: 'start' } } : {}) });
      expect(res.statusCode, url).toBe(method === 'POST' ? 403 : 400); // vic may not POST at all: refused before the name is looked at
      if (method !== 'POST') expect(res.json(), url).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining(field) });
    }
    const post = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01%00/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start' } });
    expect(post.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('params/host') });
    // Parameters reach the agent too: plain keys, no control characters in values.
    for (const params of [{ 'mode\u0000': 'acpi' }, { mode: 'acpi\u0000' }, { 'a b': 'x' }]) {
      const res = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'shutdown', params } });
      expect(res.statusCode, JSON.stringify(params)).toBe(400);
    }
    await nothingStored(f);
  });
});

const alertInput = (alertId: string, o: Partial<AlertInput>): AlertInput => ({
  alertId,
  hostId: 'hv-01',
  kind: 'unknown_principal',
  principal: '',
  action: 'destroy',
  domain: 'db-1',
  reason: 'principal is not in the policy',
  timeMs: 1,
  requestId: '',
  signatureStatus: 'verified',
  receivedAtMs: 1,
  raw: encodeMessage(v1.Alert, { id: alertId, kind: AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL }, 'Alert'),
  ...o,
});

async function insertAlert(f: NonNullable<typeof fx>, alertId: string, o: Partial<AlertInput>): Promise<number> {
  await f.store.apply([{ kind: 'alert.insert', alert: alertInput(alertId, o) }]);
  return (await f.store.listAlerts({})).find((a) => a.alertId === alertId)!.id;
}

describe('finding 3: roles, and nobody acknowledges an alert about themselves', () => {
  it('mallory (operator and security) cannot acknowledge her own unknown_principal alert; another security principal can, with a comment', async () => {
    const f = await setup();
    const issued = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('mallory'), payload: { action: 'destroy' } });
    expect(issued.statusCode).toBe(202);
    const id = await insertAlert(f, 'a1', { principal: 'mallory', requestId: issued.json().id });
    const own = await f.app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: f.as('mallory'), payload: { comment: 'just testing, ignore' } });
    expect(own.statusCode).toBe(403);
    expect(own.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(`alert ${id} is about mallory`) });
    expect((await f.store.getAlert(id))?.acknowledged).toBe(false);
    const ack = await f.app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: f.as('sec'), payload: { comment: 'red-team exercise RT-7, confirmed with J. Doe' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ acknowledged: true, acknowledgedBy: 'sec', acknowledgedAtMs: f.clock.now(), acknowledgedComment: 'red-team exercise RT-7, confirmed with J. Doe' });
    // Listed with who, when and the comment.
    const listed = (await f.app.inject({ method: 'GET', url: '/v1/alerts', headers: f.as('vic') })).json().alerts[0];
    expect(listed).toMatchObject({ acknowledgedBy: 'sec', acknowledgedComment: 'red-team exercise RT-7, confirmed with J. Doe' });
    // Still refused once acknowledged: the answer never depends on who was first.
    expect((await f.app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: f.as('mallory'), payload: { comment: 'x' } })).statusCode).toBe(403);
  });

  it('an alert naming nobody but about a command mallory issued is hers too', async () => {
    const f = await setup();
    const issued = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('mallory'), payload: { action: 'destroy' } })).json();
    const id = await insertAlert(f, 'a2', { kind: 'bad_signature', principal: '', requestId: issued.id });
    const res = await f.app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: f.as('mallory'), payload: { comment: 'fine' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toContain('which mallory issued');
  });

  it('only security acknowledges; viewer and operator get 403 and the alert stays open', async () => {
    const f = await setup();
    const id = await insertAlert(f, 'a3', { principal: 'someone' });
    for (const who of ['vic', 'oscar', 'alice', 'bob']) {
      const res = await f.app.inject({ method: 'POST', url: `/v1/alerts/${id}/ack`, headers: f.as(who), payload: { comment: 'looks fine' } });
      expect(res.statusCode, who).toBe(403);
      expect(res.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('needs one of: security') });
    }
    expect((await f.store.getAlert(id))?.acknowledged).toBe(false);
  });

  it('an operator reads only the commands it issued, and no alerts; viewers, approvers and security read all', async () => {
    const f = await setup();
    const alices = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('alice'), payload: { action: 'start' } })).json();
    const oscars = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/web-1/actions', headers: f.as('oscar'), payload: { action: 'start' } })).json();
    await insertAlert(f, 'a4', { principal: 'mallory' });
    const as = (who: string, url: string) => f.app.inject({ method: 'GET', url, headers: f.as(who) });

    const other = await as('oscar', `/v1/commands/${alices.id}`);
    expect(other.statusCode).toBe(403);
    expect(other.json().message).toContain('an operator reads only its own commands');
    expect((await as('oscar', `/v1/commands/${alices.id}?wait=5000`)).statusCode).toBe(403); // no long-poll on someone else's command
    expect((await as('oscar', `/v1/commands/${oscars.id}`)).statusCode).toBe(200);
    expect((await as('oscar', '/v1/commands')).json().commands.map((c: { id: string }) => c.id)).toEqual([oscars.id]);
    expect((await as('oscar', '/v1/commands?principal=alice')).statusCode).toBe(403);
    expect((await as('oscar', '/v1/alerts')).statusCode).toBe(403);
    expect((await as('oscar', '/v1/hosts')).statusCode).toBe(200);

    for (const who of ['vic', 'sec', 'bob']) {
      expect((await as(who, `/v1/commands/${alices.id}`)).statusCode, who).toBe(200);
      expect((await as(who, '/v1/commands')).json().commands, who).toHaveLength(2);
      expect((await as(who, '/v1/commands?principal=oscar')).json().commands, who).toHaveLength(1);
    }
    expect((await as('vic', '/v1/alerts')).json().alerts).toHaveLength(1);
    expect((await as('sec', '/v1/alerts')).json().alerts).toHaveLength(1);
    expect((await as('bob', '/v1/alerts')).json().alerts).toHaveLength(1); // bob has the default roles, viewer among them
  });

  it('issuing needs operator, approving another principal\'s command needs approver', async () => {
    const f = await setup();
    for (const who of ['vic', 'sec']) {
      const res = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as(who), payload: { action: 'destroy' } });
      expect(res.statusCode, who).toBe(403);
      expect(res.json().message).toContain('needs one of: operator');
    }
    await nothingStored(f);
    const bobs = (await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/db-1/actions', headers: f.as('bob'), payload: { action: 'destroy' } })).json();
    const res = await f.app.inject({ method: 'POST', url: `/v1/commands/${bobs.id}/approvals`, headers: f.as('oscar'), payload: {} });
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toContain('needs the approver role');
    expect((await f.app.inject({ method: 'POST', url: `/v1/commands/${bobs.id}/approvals`, headers: f.as('vic'), payload: {} })).statusCode).toBe(403);
  });

  it('a principal with no role is refused everywhere but the public routes', async () => {
    const f = await setup();
    await f.store.setPrincipalRoles('alice', []);
    for (const [method, url] of [['GET', '/v1/hosts'], ['GET', '/v1/commands'], ['GET', '/v1/alerts'], ['GET', '/metrics'], ['POST', '/v1/hosts/hv-01/domains/db-1/actions']]) {
      const res = await f.app.inject({ method: method as 'GET', url: url!, headers: f.as('alice'), ...(method === 'POST' ? { payload: { action: 'start' } } : {}) });
      expect(res.statusCode, url).toBe(403);
      expect(res.json().message).toContain('alice has no role');
    }
    expect((await f.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('a route registered without a decision on access does not start', async () => {
    const store = (await setup()).store;
    const app = await buildApp({ store, commands: new CommandService({ store, clock: Date.now, randomBytes: rng }), metrics: new ServiceMetrics(), clock: Date.now });
    try {
      expect(() => app.get('/v1/forgotten', async () => ({ everything: true }))).toThrow(/declares neither config.roles nor config.public/);
    } finally {
      await app.close();
    }
  });
});

describe('finding 4 (manager side): query strings stay out of the log; duplicate JSON keys are refused', () => {
  function capture() {
    let text = '';
    const stream = new Writable({
      write(chunk, _enc, cb) {
        text += String(chunk);
        cb();
      },
    });
    return { logger: pino({ level: 'debug' }, stream) as unknown as FastifyBaseLogger, text: () => text };
  }

  it('a token in the query string is refused and never written to the log', async () => {
    const log = capture();
    const f = await setup(log.logger);
    const secret = f.tokens.alice!;
    for (const url of [`/v1/hosts?token=${secret}`, `/v1/alerts?host=hv-01&access_token=${secret}`, `/v1/nothing-here?token=${secret}`]) {
      const res = await f.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('credentials in the URL are refused') });
    }
    // Even next to a valid header: the URL has leaked already, the client must stop doing it.
    expect((await f.app.inject({ method: 'GET', url: `/v1/hosts?token=${secret}`, headers: f.as('alice') })).statusCode).toBe(401);
    // Other query strings are left out of the log too (a filter can name a principal, an alert id…).
    expect((await f.app.inject({ method: 'GET', url: '/v1/alerts?principal=mallory', headers: f.as('vic') })).statusCode).toBe(200);
    const lines = log.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(log.text()).not.toContain(secret);
    expect(log.text()).not.toContain(secret.slice(4, 20));
    expect(log.text()).not.toContain('mallory');
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', method: 'GET', path: '/v1/hosts', query: '[redacted]', status: 401 }));
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', path: '/v1/alerts', query: '[redacted]', status: 200, principal: 'vic', route: '/v1/alerts' }));
  });

  it('{"action":"domain_info","action":"destroy"} is refused, nothing is stored', async () => {
    const f = await setup();
    const post = (payload: string, url = '/v1/hosts/hv-01/domains/db-1/actions', who = 'alice') =>
      f.app.inject({ method: 'POST', url, headers: { ...f.as(who), 'content-type': 'application/json' }, payload });
    const bodies = [
      '{"action":"domain_info","action":"destroy"}',
      '{"action":"domain_info","\\u0061ction":"destroy"}', // the same key, escaped
      '{"action":"shutdown","params":{"mode":"acpi","mode":"force"}}', // nested
      '{"params":{},"action":"start","params":{"x":"y"}}',
    ];
    for (const body of bodies) {
      const res = await post(body);
      expect(res.statusCode, body).toBe(400);
      expect(res.json(), body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/body has the key "(action|mode|params)" twice/) });
    }
    await nothingStored(f);
    // Every JSON body the API takes: approvals and acknowledgements too.
    const approval = await post('{"keyId":"0000000000000000","keyId":"1111111111111111"}', '/v1/commands/abc/approvals', 'bob');
    expect(approval.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('"keyId" twice') });
    const ack = await post('{"comment":"benign","comment":"x"}', '/v1/alerts/1/ack', 'sec');
    expect(ack.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('"comment" twice') });
    // Equal keys in different objects are fine, and so is prototype-looking text inside strings.
    const ok = await post('{"action":"start","params":{"action":"x","note":"{\\"action\\":1,\\"action\\":2}"}}');
    expect(ok.statusCode, ok.body).toBe(202);
    const proto = await post('{"action":"start","__proto__":{"admin":true}}');
    expect(proto.statusCode).toBe(400);
  });

  it('findDuplicateKey: arrays, nesting, escapes and offsets', () => {
    expect(findDuplicateKey('{"a":1,"b":[{"a":1},{"a":2}],"c":{"a":{"a":1}}}')).toBeUndefined();
    expect(findDuplicateKey('[{"a":1,"a":2}]')).toEqual({ key: 'a', offset: 8 });
    expect(findDuplicateKey('{"k":"\\"a\\":1","a":1,"a":2}')).toEqual({ key: 'a', offset: 21 });
    expect(findDuplicateKey('{"é":1, "\\u00e9":2}')).toEqual({ key: 'é', offset: 9 }); // bytes: é is two
    expect(findDuplicateKey('"a"')).toBeUndefined();
    expect(findDuplicateKey(`${'['.repeat(5000)}${']'.repeat(5000)}`)).toBeUndefined();
  });
});
