/**
 * Issue 13, finding 1 (high), as the black-box run did it and as a manager
 * that skips the API would: a NUL byte in a domain name bypassed the policy.
 * The policy matched its globs against `db-1\0`, libvirt acted on `db-1`, so
 * a destroy of db-1 held for 2 approvals went through with 1 (`db-1%00`),
 * and a role limited to `*-test` destroyed web-1 (`web-1%00-test`).
 *
 * 1. Through the real API (`vms-agent serve` of the whole stack): both names
 *    are refused with VALIDATION_FAILED, nothing is stored or sent, the
 *    domains keep their state.
 * 2. At the agent, which trusts no manager: the same names sealed into
 *    envelopes and put on BMC queue 1 (the real bmc-oem, with ipmitool) reach
 *    the real hypervisor-agent; each is denied with ERR_INVALID_NAME and a
 *    signed INVALID_NAME alert, no challenge is issued, libvirt is not
 *    touched; a principal or host id with a control character is refused the
 *    same way; the honest spellings still get the policy they deserve, and
 *    raise no INVALID_NAME alert.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Action, AlertKind, type CommandRequest, DomainState, encodePublicKey, Outcome, verifyAlert } from '@backchannel/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_MAIN, type AgentSetup, prepareAgent, rnd, startAgent, stopAgentRun } from '../../src/agent-e2e/agent-process.js';
import { ManagerDriver, type Received } from '../../src/agent-e2e/manager-driver.js';
import { ipmitoolAvailable } from '../../src/harness/ipmitool.js';
import type { ManagedProcess } from '../../src/harness/managed-process.js';
import { freeTcpPort } from '../../src/harness/ports.js';
import { BMC_OEM_MAIN, type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

describe('finding 1 through the API of the running stack', { timeout: 120_000 }, () => {
  let stack: VmsAgentStack;
  beforeAll(async () => {
    stack = new VmsAgentStack();
    await stack.start();
  }, 180_000);
  afterAll(() => stack?.stop());

  async function domains(): Promise<Record<string, string>> {
    for (let i = 0; i < 100; i++) {
      const { json } = await stack.api<{ domains?: { name: string; state: string }[] }>('GET', '/v1/hosts/hv-01/domains', 'alice');
      if (json.domains && json.domains.length > 0) return Object.fromEntries(json.domains.map((d) => [d.name, d.state]));
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no status report from hv-01');
  }

  it('db-1%00 and web-1%00-test are refused with VALIDATION_FAILED; nothing is stored, sent or applied', async () => {
    const before = await domains();
    expect(before).toMatchObject({ 'db-1': 'paused', 'web-1': 'running' });
    for (const name of ['db-1%00', 'web-1%00-test', 'db-1%00%00', 'web-1%0A-test']) {
      // The raw URL, as the attack script sent it (fetch keeps %00 percent-encoded).
      const res = await fetch(`${stack.url}/v1/hosts/hv-01/domains/${name}/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.tokens.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'destroy' }),
      });
      expect(res.status, name).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code, name).toBe('VALIDATION_FAILED');
      expect(body.message, name).toMatch(/^params\/domain ".*" contains U\+000[0A] at position/);
    }
    expect((await stack.api<{ commands: unknown[] }>('GET', '/v1/commands', 'alice')).json.commands).toEqual([]);
    // The agent saw nothing to apply, and nothing changed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(stack.agent.output).not.toContain('applying action');
    expect(await domains()).toEqual(before);
    // Not an alert: the API refused a malformed request before anything left the manager.
    expect((await stack.api<{ alerts: unknown[] }>('GET', '/v1/alerts', 'alice')).json.alerts).toEqual([]);
  });
});

const ready = ipmitoolAvailable() && existsSync(AGENT_MAIN) && existsSync(BMC_OEM_MAIN);

describe.skipIf(!ready)('finding 1 at the hypervisor-agent, past any manager (real bmc-oem, real agent, envelopes put with ipmitool)', { timeout: 120_000 }, () => {
  let bmc: BmcOemInstance;
  let setup: AgentSetup;
  let agent: ManagedProcess;
  let manager: ManagerDriver;
  let n = 0;

  beforeAll(async () => {
    const vmPort = await freeTcpPort();
    bmc = await startBmcOem([{ name: 'oper', privilege: 'operator', password: 'names-secret' }], ['--vm-listen', `tcp:127.0.0.1:${vmPort}`]);
    setup = prepareAgent(vmPort);
    // The attack's policy: destroying db-1 takes 2 approvals; mallory is a tester limited to *-test.
    const key = (who: keyof AgentSetup['principals']) => [encodePublicKey(setup.principals[who].publicKey)];
    const all = ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume', 'list_domains', 'domain_info'];
    writeFileSync(
      join(setup.dir, 'policy.json'),
      JSON.stringify({
        version: 1,
        principals: {
          alice: { publicKeys: key('alice'), roles: ['admin'] },
          bob: { publicKeys: key('bob'), roles: ['admin'] },
          carol: { publicKeys: key('carol'), roles: ['admin'] },
          mallory: { publicKeys: key('mallory'), roles: ['tester'] },
        },
        roles: { admin: { actions: all, domains: ['*'] }, tester: { actions: ['destroy', 'domain_info'], domains: ['*-test'] } },
        approvals: [{ actions: ['destroy'], domains: ['db-1'], required: 2, approvers: ['alice', 'bob', 'carol'] }],
        challengeTtlSeconds: 60,
      }),
      { mode: 0o600 },
    );
    agent = await startAgent(setup);
    manager = new ManagerDriver({ target: { port: bmc.port, user: 'oper', passwordFile: bmc.passwordFile('oper'), cipherSuite: 17, privilege: 'OPERATOR' }, seed: setup.seed, hostId: setup.hostId, randomBytes: rnd });
    await manager.waitFor((b) => b.hello ?? undefined, 15_000, 'Hello');
  }, 180_000);

  afterAll(() => stopAgentRun({ agent, bmc, setup }));

  const request = (principal: string, action: Action, domain: string): CommandRequest => ({ requestId: `nul-${++n}`, principal, action, domain, hostId: setup.hostId, issuedAtMs: Date.now() });
  const resultFor = (id: string) => (b: Received) => (b.commandResult?.requestId === id ? b.commandResult : undefined);
  const alerts = () => manager.received.flatMap((b) => (b.alert ? [b.alert] : []));

  async function states(): Promise<Record<string, DomainState>> {
    const req = request('alice', Action.ACTION_LIST_DOMAINS, '');
    manager.send({ commandRequest: req });
    const r = await manager.waitFor(resultFor(req.requestId!), 15_000, 'domain list');
    return Object.fromEntries((r.domains ?? []).map((d) => [d.name ?? '', d.state ?? DomainState.DOMAIN_STATE_NOSTATE]));
  }

  it('destroy "db-1\\0" by bob (db-1 needs 2 approvals) and destroy "web-1\\0-test" by mallory (tester on *-test): denied, alerted, nothing asked or applied', async () => {
    const before = await states();
    expect(before).toMatchObject({ 'db-1': DomainState.DOMAIN_STATE_PAUSED, 'web-1': DomainState.DOMAIN_STATE_RUNNING });
    const attacks = [request('bob', Action.ACTION_DESTROY, 'db-1\0'), request('mallory', Action.ACTION_DESTROY, 'web-1\0-test')];
    for (const req of attacks) {
      manager.send({ commandRequest: req });
      const result = await manager.waitFor(resultFor(req.requestId!), 15_000, `result for ${JSON.stringify(req.domain)}`);
      expect(result, req.domain ?? '').toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_INVALID_NAME' });
      expect(result.errorMessage).toMatch(/contains the control character U\+0000/);
    }
    // No challenge for either: nobody was even asked to sign.
    expect(manager.received.filter((b) => b.challenge && attacks.some((a) => a.requestId === b.challenge?.requestId))).toEqual([]);
    // One signed INVALID_NAME alert each, naming who asked for what.
    await manager.waitFor(() => (alerts().length >= 2 ? true : undefined), 15_000, 'two alerts');
    expect(alerts().map((a) => [a.kind, a.principal, a.domain])).toEqual([
      [AlertKind.ALERT_KIND_INVALID_NAME, 'bob', 'db-1\0'],
      [AlertKind.ALERT_KIND_INVALID_NAME, 'mallory', 'web-1\0-test'],
    ]);
    for (const a of alerts()) expect(verifyAlert(a, setup.hostKey.publicKey)).toBe(true);
    expect(await states()).toEqual(before);
    expect(agent.output).not.toContain('applying action');
    const journal = readFileSync(join(setup.dir, 'state', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { kind: string }).kind);
    expect(journal).toEqual(['invalid_name', 'invalid_name']);
  });

  it('the same for a principal and a host id with a control character: denied with an INVALID_NAME alert each', async () => {
    const since = alerts().length;
    const reqs = [
      { ...request('bob\u0007', Action.ACTION_START, 'web-2') },
      { ...request('bob', Action.ACTION_START, 'web-2'), hostId: `${setup.hostId}\0` },
    ];
    for (const req of reqs) {
      manager.send({ commandRequest: req });
      expect(await manager.waitFor(resultFor(req.requestId!))).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_INVALID_NAME' });
    }
    await manager.waitFor(() => (alerts().length >= since + 2 ? true : undefined), 15_000, 'two more alerts');
    expect(alerts().slice(since).map((a) => [a.kind, a.reason])).toEqual([
      [AlertKind.ALERT_KIND_INVALID_NAME, 'principal "bob\\u0007" contains the control character U+0007 at offset 3'],
      [AlertKind.ALERT_KIND_INVALID_NAME, `host id "${setup.hostId}\\u0000" contains the control character U+0000 at offset ${setup.hostId.length}`],
    ]);
    expect((await states())['web-2']).toBe(DomainState.DOMAIN_STATE_SHUTOFF);
    expect(agent.output).not.toContain('applying action');
  });

  it('the honest spellings get the policy: db-1 still asks for 2 approvals, web-1 is not mallory\'s; neither raises an INVALID_NAME alert', async () => {
    const since = alerts().length;
    const honest = request('bob', Action.ACTION_DESTROY, 'db-1');
    manager.send({ commandRequest: honest });
    const challenge = await manager.waitFor((b) => (b.challenge?.requestId === honest.requestId ? b.challenge : undefined), 15_000, 'challenge for db-1');
    expect(challenge).toMatchObject({ approvalsRequired: 2, approvers: ['alice', 'bob', 'carol'] });
    const plain = request('mallory', Action.ACTION_DESTROY, 'web-1');
    manager.send({ commandRequest: plain });
    expect(await manager.waitFor(resultFor(plain.requestId!))).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_NOT_PERMITTED' });
    await manager.waitFor(() => (alerts().length > since ? true : undefined), 15_000, 'the not-permitted alert');
    // mallory asking for what her role does not cover is an alert of its own kind, and the only new one.
    expect(alerts().slice(since).map((a) => a.kind)).toEqual([AlertKind.ALERT_KIND_ACTION_NOT_PERMITTED]);
    expect((await states())['web-1']).toBe(DomainState.DOMAIN_STATE_RUNNING);
  });
});
