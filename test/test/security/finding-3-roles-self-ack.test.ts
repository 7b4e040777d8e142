/**
 * Issue 13, finding 3 (medium): a principal acknowledged the alert about
 * itself (mallory acked her own unknown_principal alert, and the first ack
 * wins), and every token could read every principal's commands, challenges
 * and alerts: there were no roles.
 *
 * Reproduced through the running stack's API and CLI, the way the attack did
 * it: mallory's command is denied by the host and its signed alert arrives;
 * mallory then tries to acknowledge it with every role the manager has to
 * give short of another person's, and to read what is not hers. Refused
 * each time (403 FORBIDDEN) and the alert stays open until another security
 * principal acknowledges it with a comment. A revoked token stops at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface AlertView {
  id: number;
  kind: string;
  principal: string;
  acknowledged: boolean;
  acknowledgedBy?: string | null;
  acknowledgedComment?: string | null;
}

let stack: VmsAgentStack;
beforeAll(async () => {
  stack = new VmsAgentStack();
  await stack.start();
}, 180_000);
afterAll(() => stack?.stop());

async function raw(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(stack.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('finding 3: roles on the API, and nobody acknowledges an alert about themselves', { timeout: 120_000 }, () => {
  let alert: AlertView;
  let alicesCommand = '';

  it('mallory\'s denied command raises the host\'s alert; nobody has acknowledged it', async () => {
    const alices = await stack.cliJson<{ id: string; state: string }>(['vm', 'start', 'hv-01', 'web-2', '--wait', '--timeout', '30'], 'alice');
    expect(alices.state).toBe('applied');
    alicesCommand = alices.id;
    const r = await stack.cli(['vm', 'destroy', 'hv-01', 'db-1', '--wait', '--timeout', '30', '--json'], 'mallory');
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'denied', result: { errorCode: 'ERR_UNKNOWN_PRINCIPAL' } });
    for (let i = 0; i < 100; i++) {
      const list = (await stack.api<{ alerts: AlertView[] }>('GET', '/v1/alerts', 'sec')).json.alerts;
      if (list.length > 0) {
        expect(list).toEqual([expect.objectContaining({ kind: 'unknown_principal', principal: 'mallory', acknowledged: false })]);
        alert = list[0]!;
        return;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('no alert');
  });

  it('with the default roles (operator, approver, viewer) mallory may read the alert but not acknowledge it', async () => {
    const ack = await raw('POST', `/v1/alerts/${alert.id}/ack`, stack.tokens.mallory!, { comment: 'just testing, ignore' });
    expect(ack.status).toBe(403);
    expect(ack.json).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('needs one of: security') });
  });

  it('granted security as well, mallory still cannot acknowledge her own alert, and after someone else did her attempt changes nothing', async () => {
    await stack.must(['principals', 'roles', 'mallory', 'operator,security']);
    const own = await raw('POST', `/v1/alerts/${alert.id}/ack`, stack.tokens.mallory!, { comment: 'just testing, ignore' });
    expect(own.status).toBe(403);
    expect(own.json).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(`alert ${alert.id} is about mallory`) });
    // The CLI says the same (exit 4: forbidden).
    expect((await stack.cli(['alerts', 'ack', String(alert.id), '--comment', 'not me'], 'mallory')).code).toBe(4);
    expect((await stack.api<AlertView>('GET', `/v1/alerts?acknowledged=false`, 'sec')).json).toMatchObject({ alerts: [expect.objectContaining({ id: alert.id })] });
    // An acknowledgement carries a comment: an empty one is refused.
    expect((await raw('POST', `/v1/alerts/${alert.id}/ack`, stack.tokens.sec!, { comment: ' ' })).status).toBe(400);
    expect((await raw('POST', `/v1/alerts/${alert.id}/ack`, stack.tokens.sec!, {})).status).toBe(400);
    const ack = await raw('POST', `/v1/alerts/${alert.id}/ack`, stack.tokens.sec!, { comment: 'red-team exercise RT-7' });
    expect(ack.status).toBe(200);
    expect(ack.json).toMatchObject({ acknowledged: true, acknowledgedBy: 'sec', acknowledgedComment: 'red-team exercise RT-7' });
    expect((await raw('POST', `/v1/alerts/${alert.id}/ack`, stack.tokens.mallory!, { comment: 'x' })).status).toBe(403);
  });

  it('as an operator without viewer or approver, mallory reads only her own commands (and their challenges), no one else\'s', async () => {
    await stack.must(['principals', 'roles', 'mallory', 'operator']);
    const other = await raw('GET', `/v1/commands/${alicesCommand}`, stack.tokens.mallory!);
    expect(other.status).toBe(403);
    expect(other.json.message).toContain('an operator reads only its own commands');
    expect(JSON.stringify(other.json)).not.toContain('nonce');
    const mine = await raw('GET', '/v1/commands', stack.tokens.mallory!);
    expect(mine.status).toBe(200);
    expect((mine.json.commands as { principal: string }[]).map((c) => c.principal)).toEqual(['mallory']);
    expect((await raw('GET', '/v1/commands?principal=alice', stack.tokens.mallory!)).status).toBe(403);
    expect((await raw('GET', '/v1/alerts', stack.tokens.mallory!)).status).toBe(403);
    // Approving alice's command would need approver.
    expect((await raw('POST', `/v1/commands/${alicesCommand}/approvals`, stack.tokens.mallory!, {})).status).toBe(403);
  });

  it('a revoked token is refused at its next request', async () => {
    const tokens = await stack.cliJson<{ id: string; principal: string; state: string }[]>(['tokens', 'list', '--principal', 'mallory']);
    expect(tokens).toEqual([expect.objectContaining({ principal: 'mallory', state: 'active' })]);
    await stack.must(['tokens', 'revoke', tokens[0]!.id]);
    const res = await raw('GET', '/v1/hosts', stack.tokens.mallory!);
    expect(res.status).toBe(401);
    expect(res.json.code).toBe('TOKEN_REVOKED');
  });
});
