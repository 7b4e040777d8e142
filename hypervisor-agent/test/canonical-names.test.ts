/**
 * Issue 13, finding 1: a NUL in a domain name bypassed the policy (the policy
 * matched `db-1\0`, libvirt acted on `db-1`). The agent now refuses such names
 * with an INVALID_NAME alert, resolves every domain through libvirt before the
 * policy decides, and acts on the UUID it resolved.
 */
import { resolve } from 'node:path';
import { Action, AlertKind, type Body, type CommandRequest, DomainState, encodePublicKey, Outcome } from '@backchannel/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertFacts } from '../src/alerts/alert-factory.js';
import { CommandProcessor } from '../src/agent/command-processor.js';
import { LibvirtAdapter } from '../src/libvirt/libvirt-adapter.js';
import { canonicalMismatch, nameProblem } from '../src/policy/canonical-name.js';
import { compilePolicy } from '../src/policy/policy.js';
import { AgentStore } from '../src/store/agent-store.js';
import { makePolicyJson, makePrincipals, rnd } from './helpers/keys.js';

const FIXTURE_URI = `test://${resolve(import.meta.dirname, 'fixtures/node.xml')}`;
const keys = makePrincipals();
// The attack's policy: destroying db-1 takes 2 approvals; mallory is a tester limited to *-test domains.
const base = makePolicyJson(keys);
const policy = compilePolicy({
  ...base,
  principals: { ...(base.principals as object), mallory: { publicKeys: [encodePublicKey(keys.mallory.publicKey)], roles: ['tester'] } },
  roles: { ...(base.roles as object), tester: { actions: ['destroy', 'domain_info'], domains: ['*-test'] } },
  approvals: [{ actions: ['destroy'], domains: ['db-1'], required: 2, approvers: ['alice', 'bob', 'carol'] }],
});

let seq = 0;
const request = (principal: string, action: Action, domain: string, hostId = 'hv-1'): CommandRequest => ({
  requestId: `names-${++seq}`,
  principal,
  action,
  domain,
  hostId,
  issuedAtMs: 1_700_000_000_000,
});

describe('canonical names at the agent (issue 13 finding 1)', () => {
  let lv: LibvirtAdapter;
  let store: AgentStore;
  let sent: Body[];
  let alerts: AlertFacts[];
  let processor: CommandProcessor;
  beforeEach(async () => {
    lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000 });
    await lv.connect();
    store = new AgentStore(':memory:');
    sent = [];
    alerts = [];
    processor = new CommandProcessor({ hostId: 'hv-1', store, policy: () => policy, executor: lv, now: () => 1_700_000_000_000, randomBytes: rnd, send: (b) => sent.push(b), alert: (a) => alerts.push(a) });
  });
  afterEach(async () => {
    await processor.stop(0);
    await lv.close();
    store.close();
  });

  async function submit(req: CommandRequest) {
    await processor.handleRequest(req);
    await processor.idle();
    return { result: sent.map((b) => b.commandResult).find((r) => r?.requestId === req.requestId), challenge: sent.map((b) => b.challenge).find((c) => c?.requestId === req.requestId) };
  }

  it('refuses db-1\\0 (which libvirt reads as db-1, held for 2 approvals) with an INVALID_NAME alert, and asks for no signature', async () => {
    const { result, challenge } = await submit(request('bob', Action.ACTION_DESTROY, 'db-1\0'));
    expect(challenge).toBeUndefined();
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_INVALID_NAME' });
    expect(result?.errorMessage).toBe('domain "db-1\\u0000" contains the control character U+0000 at offset 4');
    expect(alerts).toEqual([expect.objectContaining({ kind: AlertKind.ALERT_KIND_INVALID_NAME, principal: 'bob', domain: 'db-1\0', action: Action.ACTION_DESTROY })]);
    expect((await lv.domainInfo('db-1')).state).toBe(DomainState.DOMAIN_STATE_PAUSED);
    // The honest request for the same domain still needs its two approvals.
    const honest = await submit(request('bob', Action.ACTION_DESTROY, 'db-1'));
    expect(honest.challenge).toMatchObject({ approvalsRequired: 2, approvers: ['alice', 'bob', 'carol'] });
    expect(alerts).toHaveLength(1);
  });

  it('refuses web-1\\0-test from a role limited to *-test, and web-1 keeps running', async () => {
    const { result, challenge } = await submit(request('mallory', Action.ACTION_DESTROY, 'web-1\0-test'));
    expect(challenge).toBeUndefined();
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_INVALID_NAME' });
    expect(alerts.map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_INVALID_NAME]);
    expect((await lv.domainInfo('web-1')).state).toBe(DomainState.DOMAIN_STATE_RUNNING);
    // Without the NUL the name is what it says, and the role does not cover it.
    const plain = await submit(request('mallory', Action.ACTION_DESTROY, 'web-1'));
    expect(plain.result).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_NOT_PERMITTED' });
  });

  it('refuses control characters in the principal and the host id the same way', async () => {
    const principal = await submit(request('bob\u0007', Action.ACTION_START, 'web-2'));
    const host = await submit(request('bob', Action.ACTION_START, 'web-2', 'hv-1\0'));
    expect([principal.result?.errorCode, host.result?.errorCode]).toEqual(['ERR_INVALID_NAME', 'ERR_INVALID_NAME']);
    expect(alerts.map((a) => [a.kind, a.reason])).toEqual([
      [AlertKind.ALERT_KIND_INVALID_NAME, 'principal "bob\\u0007" contains the control character U+0007 at offset 3'],
      [AlertKind.ALERT_KIND_INVALID_NAME, 'host id "hv-1\\u0000" contains the control character U+0000 at offset 4'],
    ]);
    expect((await lv.domainInfo('web-2')).state).toBe(DomainState.DOMAIN_STATE_SHUTOFF);
  });

  it('decides on the name libvirt resolved and reports the UUID it acted on; ordinary names raise no alert', async () => {
    const { result } = await submit(request('mallory', Action.ACTION_DOMAIN_INFO, 'web-1'));
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_NOT_PERMITTED' });
    alerts.length = 0;
    const info = await submit(request('alice', Action.ACTION_DOMAIN_INFO, 'web-1'));
    expect(info.result).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, domainName: 'web-1', domainUuid: '6695eb01-f6a4-8304-79aa-97f2502e1931' });
    expect(alerts).toEqual([]);
  });
});

describe('nameProblem / canonicalMismatch', () => {
  it.each([
    ['web-1\0', 'U+0000'],
    ['web-1\n', 'U+000A'],
    ['web\u007f1', 'U+007F'],
    ['web\u00851', 'U+0085'],
  ])('%j: control character %s', (name, code) => {
    expect(nameProblem('domain', name)).toContain(code);
  });

  it('refuses unpaired surrogates and U+FFFD, accepts ordinary and non-ASCII names', () => {
    expect(nameProblem('domain', 'web-\ud800')).toMatch(/unpaired surrogate/);
    expect(nameProblem('domain', 'web-\udc00x')).toMatch(/unpaired surrogate/);
    expect(nameProblem('domain', 'web-\ufffd')).toMatch(/U\+FFFD/);
    for (const ok of ['web-1', 'db_2.prod', 'bücher', 'vm-😀', '']) expect(nameProblem('domain', ok)).toBeUndefined();
  });

  it('compares with libvirt byte for byte', () => {
    expect(canonicalMismatch('web-1', 'web-1')).toBeUndefined();
    expect(canonicalMismatch('Web-1', 'web-1')).toMatch(/not the same name byte for byte/);
    expect(canonicalMismatch('web-1\0-test', 'web-1')).toBe('domain "web-1\\u0000-test" resolves in libvirt to "web-1", which is not the same name byte for byte');
  });
});
