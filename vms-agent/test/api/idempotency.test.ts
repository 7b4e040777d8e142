/**
 * Idempotency-Key on POST …/actions and on approvals, through the real app
 * on a real SQLite store (the PostgreSQL store passes the same store
 * contract; the replica suite retries a POST across a takeover).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMessage, requestDigest, signChallenge, v1 } from '@backchannel/proto';
import { apiFixture } from '../helpers/api-fixture.js';
import { rng } from '../helpers/temp-store.js';
import { IDEMPOTENCY_RETENTION_MS } from '../../src/commands/idempotency.js';

let fx: Awaited<ReturnType<typeof apiFixture>> | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const ACTIONS = '/v1/hosts/hv-01/domains/db-1/actions';

describe('Idempotency-Key', () => {
  it('a repeated key with the same body returns the first command with the same status, and creates nothing', async () => {
    const f = (fx = await apiFixture());
    const post = (key: string, body: Record<string, unknown> = { action: 'start', params: { a: '1', b: '2' } }) =>
      f.app.inject({ method: 'POST', url: ACTIONS, headers: { ...f.as('alice'), 'idempotency-key': key }, payload: body });
    const first = await post('k-1');
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Same body with its keys in another order is the same request.
    const again = await post('k-1', { params: { b: '2', a: '1' }, action: 'start' });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(`/v1/commands/${first.json().id}`);
    expect(again.json().id).toBe(first.json().id);
    expect(await f.store.listCommands({})).toHaveLength(1);
    expect(await f.store.listOutbox('hv-01')).toHaveLength(1);
    // Without a key, or with another key: a new command each time.
    expect((await f.app.inject({ method: 'POST', url: ACTIONS, headers: f.as('alice'), payload: { action: 'start' } })).statusCode).toBe(202);
    expect((await post('k-2')).json().id).not.toBe(first.json().id);
    expect(await f.store.listCommands({})).toHaveLength(3);
  });

  it('a reused key with another body is refused with 422 and a clear error; nothing is created', async () => {
    const f = (fx = await apiFixture());
    const headers = { ...f.as('alice'), 'idempotency-key': 'k-1' };
    await f.app.inject({ method: 'POST', url: ACTIONS, headers, payload: { action: 'start' } });
    const other = await f.app.inject({ method: 'POST', url: ACTIONS, headers, payload: { action: 'destroy' } });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringContaining('send a new key') });
    const otherDomain = await f.app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/web-1/actions', headers, payload: { action: 'start' } });
    expect(otherDomain.statusCode).toBe(422);
    expect(await f.store.listCommands({})).toHaveLength(1);
  });

  it('keys are scoped per principal, refused when malformed, and forgotten after the retention period', async () => {
    const f = (fx = await apiFixture());
    const post = (who: string, key: string) => f.app.inject({ method: 'POST', url: ACTIONS, headers: { ...f.as(who), 'idempotency-key': key }, payload: { action: 'start' } });
    const a = (await post('alice', 'shared')).json().id;
    const o = (await post('oscar', 'shared')).json().id;
    expect(a).not.toBe(o);
    for (const bad of ['has space', 'x'.repeat(256), 'é']) {
      const r = await post('alice', bad);
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().message).toMatch(/Idempotency-Key must be 1 to 255 visible ASCII/);
    }
    f.clock.advance(IDEMPOTENCY_RETENTION_MS - 1);
    expect((await post('alice', 'shared')).json().id).toBe(a);
    f.clock.advance(2);
    expect((await post('alice', 'shared')).json().id).not.toBe(a);
  });

  it('concurrent requests with one key create one command (the losers get the winner back)', async () => {
    const f = (fx = await apiFixture());
    const rs = await Promise.all(
      Array.from({ length: 8 }, () => f.app.inject({ method: 'POST', url: ACTIONS, headers: { ...f.as('alice'), 'idempotency-key': 'race' }, payload: { action: 'start' } })),
    );
    expect(new Set(rs.map((r) => r.statusCode))).toEqual(new Set([202]));
    expect(new Set(rs.map((r) => r.json().id)).size).toBe(1);
    expect(rs.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(7);
    expect(await f.store.listCommands({})).toHaveLength(1);
  });

  it('a repeated approval with the same key returns the command with 200 and adds no second approval; another body is 422', async () => {
    const f = (fx = await apiFixture());
    const issued = (await f.app.inject({ method: 'POST', url: ACTIONS, headers: f.as('bob'), payload: { action: 'destroy' } })).json();
    const c = await f.store.getCommand(issued.id);
    const ch = v1.Challenge.create({
      requestId: issued.id, nonce: rng(32), expiresAtMs: f.clock.now() + 60_000, hostId: 'hv-01', approvalsRequired: 1, approvers: [],
      requestDigest: requestDigest(decodeMessage(v1.CommandRequest, c!.request, 'CommandRequest')),
    });
    await f.store.apply(await f.commands.onChallenge('hv-01', ch));
    const sig = Buffer.from(signChallenge(ch, f.keys.bob!).signature!).toString('base64');
    const approve = (key: string, payload: Record<string, unknown>) => f.app.inject({ method: 'POST', url: `/v1/commands/${issued.id}/approvals`, headers: { ...f.as('bob'), 'idempotency-key': key }, payload });
    const first = await approve('a-1', { signature: sig });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ responseSent: true, approvals: [expect.objectContaining({ principal: 'bob' })] });
    const again = await approve('a-1', { signature: sig });
    expect(again.statusCode).toBe(200); // without the key this is 409 ALREADY_APPROVED
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().approvals).toHaveLength(1);
    expect((await approve('a-1', {})).json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    // The key of an issue cannot be replayed as an approval.
    await f.app.inject({ method: 'POST', url: ACTIONS, headers: { ...f.as('bob'), 'idempotency-key': 'i-1' }, payload: { action: 'start' } });
    expect((await approve('i-1', { signature: sig })).json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringContaining('another operation (issue)') });
    expect((await f.store.listOutbox('hv-01')).filter((o) => o.kind === 'challenge_response')).toHaveLength(1);
  });
});
