/**
 * hypervisor-agent end to end: the real bmc-oem (RMCP+ for the manager side,
 * VM serial protocol over TCP for the host side), the real hypervisor-agent
 * with libvirt's test driver (3 domains), and a manager test driver that seals
 * envelopes with proto and moves records with the stock ipmitool.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Action,
  AlertKind,
  type Challenge,
  type CommandRequest,
  DomainState,
  EnvelopeKeys,
  Outcome,
  signChallenge,
  type SigningKeyPair,
  verifyAlert,
} from '@backchannel/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_MAIN, type AgentSetup, prepareAgent, rnd, startAgent, stopAgentRun } from '../../src/agent-e2e/agent-process.js';
import { ManagerDriver, type Received } from '../../src/agent-e2e/manager-driver.js';
import { ipmitoolAvailable } from '../../src/harness/ipmitool.js';
import type { ManagedProcess } from '../../src/harness/managed-process.js';
import { freeTcpPort } from '../../src/harness/ports.js';
import { BMC_OEM_MAIN, type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';

const ready = ipmitoolAvailable() && existsSync(AGENT_MAIN) && existsSync(BMC_OEM_MAIN);

describe.skipIf(!ready)('hypervisor-agent ↔ bmc-oem ↔ manager (needs ipmitool and the built bmc-oem and hypervisor-agent)', () => {
  let bmc: BmcOemInstance;
  let vmPort: number;
  let setup: AgentSetup;
  let agent: ManagedProcess;
  let manager: ManagerDriver;
  let n = 0;

  beforeAll(async () => {
    vmPort = await freeTcpPort();
    bmc = await startBmcOem([{ name: 'oper', privilege: 'operator', password: 'e2e-secret' }], ['--vm-listen', `tcp:127.0.0.1:${vmPort}`]);
    setup = prepareAgent(vmPort);
    agent = await startAgent(setup, {}, ['--metrics', '127.0.0.1:0']);
    manager = newManager();
    await manager.waitFor((b) => b.hello ?? undefined, 15_000, 'Hello');
  }, 60_000);

  afterAll(() => stopAgentRun({ agent, bmc, setup }));

  const bmcTarget = () => ({ port: bmc.port, user: 'oper', passwordFile: bmc.passwordFile('oper'), cipherSuite: 17, privilege: 'OPERATOR' as const });
  const newManager = () =>
    new ManagerDriver({
      target: bmcTarget(),
      seed: setup.seed,
      hostId: setup.hostId,
      randomBytes: rnd,
    });

  const request = (principal: string, action: Action, domain: string): CommandRequest => ({
    requestId: `e2e-${++n}`,
    principal,
    action,
    domain,
    hostId: setup.hostId,
    issuedAtMs: Date.now(),
  });
  const resultFor = (id: string) => (b: Received) => (b.commandResult?.requestId === id ? b.commandResult : undefined);
  const challengeFor = (id: string) => (b: Received) => (b.challenge?.requestId === id ? (b.challenge as Challenge) : undefined);
  const alertOf = (kind: AlertKind, since: number) => (b: Received) => (b.alert?.kind === kind && b.messageId > since ? b.alert : undefined);
  const respond = (c: Challenge, ...signers: SigningKeyPair[]) => ({ challengeResponse: { requestId: c.requestId, nonce: c.nonce, signatures: signers.map((s) => signChallenge(c, s)) } });
  // ipmitool runs synchronously, so let the agent's piped stdout catch up before counting.
  const appliedCount = async (id: string) => (await new Promise((r) => setTimeout(r, 250)), agent.output.match(new RegExp(`"requestId":"${id}"[^\\n]*"msg":"applying action"`, 'g')) ?? []).length;
  const lastId = () => manager.received.at(-1)?.messageId ?? 0;

  async function challengeAndApply(principal: string, action: Action, domain: string, signers: SigningKeyPair[]) {
    const req = request(principal, action, domain);
    manager.send({ commandRequest: req });
    const challenge = await manager.waitFor(challengeFor(req.requestId!), 15_000, `challenge for ${req.requestId}`);
    manager.send(respond(challenge, ...signers));
    const result = await manager.waitFor(resultFor(req.requestId!), 15_000, `result for ${req.requestId}`);
    return { req, challenge, result };
  }

  it('lists domains without a challenge', async () => {
    const req = request('alice', Action.ACTION_LIST_DOMAINS, '');
    manager.send({ commandRequest: req });
    const result = await manager.waitFor(resultFor(req.requestId!), 15_000, 'list result');
    expect(result.outcome).toBe(Outcome.OUTCOME_APPLIED);
    expect(result.domains?.map((d) => [d.name, d.state])).toEqual([
      ['db-1', DomainState.DOMAIN_STATE_PAUSED],
      ['web-1', DomainState.DOMAIN_STATE_RUNNING],
      ['web-2', DomainState.DOMAIN_STATE_SHUTOFF],
    ]);
  });

  it('applies every action after a signed challenge and reports each state change', async () => {
    const { alice, bob, carol } = setup.principals;
    const steps: [string, Action, string, SigningKeyPair[], DomainState][] = [
      ['alice', Action.ACTION_SUSPEND, 'web-1', [alice], DomainState.DOMAIN_STATE_PAUSED],
      ['alice', Action.ACTION_RESUME, 'web-1', [alice], DomainState.DOMAIN_STATE_RUNNING],
      ['alice', Action.ACTION_REBOOT, 'web-1', [alice], DomainState.DOMAIN_STATE_RUNNING],
      ['alice', Action.ACTION_RESET, 'web-1', [alice], DomainState.DOMAIN_STATE_RUNNING],
      ['alice', Action.ACTION_SHUTDOWN, 'web-1', [alice], DomainState.DOMAIN_STATE_SHUTOFF],
      ['alice', Action.ACTION_START, 'web-2', [alice], DomainState.DOMAIN_STATE_RUNNING],
      ['bob', Action.ACTION_DESTROY, 'db-1', [bob, carol], DomainState.DOMAIN_STATE_SHUTOFF], // 2-of-3
    ];
    for (const [principal, action, domain, signers, expected] of steps) {
      const since = lastId();
      const { req, challenge, result } = await challengeAndApply(principal, action, domain, signers);
      expect(challenge.approvalsRequired).toBe(signers.length);
      expect(result, `${req.requestId} ${action} ${domain}: ${result.errorMessage}`).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, newState: expected });
      expect(await appliedCount(req.requestId!)).toBe(1);
      // The result itself gives the domain as libvirt shows it after a verb (the manager updates its
      // status copy from it; no report follows for that change). A shutdown is waited for: none.
      expect(result.domainAfterSet).toBe(action !== Action.ACTION_SHUTDOWN);
      // The periodic report (every 2 s here) shows it too.
      const report = await manager.waitFor(
        (b) => (b.messageId > since && b.statusReport?.domains?.some((d) => d.name === domain && d.state === expected) ? b.statusReport : undefined),
        10_000,
        `status report with ${domain} in state ${expected}`,
      );
      expect(report.hostId).toBe(setup.hostId);
    }
    const info = request('alice', Action.ACTION_DOMAIN_INFO, 'db-1');
    manager.send({ commandRequest: info });
    expect((await manager.waitFor(resultFor(info.requestId!))).domainInfo).toMatchObject({ name: 'db-1', state: DomainState.DOMAIN_STATE_SHUTOFF });
  }, 120_000);

  it('reports libvirt failures with the libvirt code', async () => {
    const { result } = await challengeAndApply('alice', Action.ACTION_DESTROY, 'web-1', [setup.principals.alice]);
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_FAILED, errorCode: 'VIR_ERR_OPERATION_INVALID' });
  });

  it('does not apply a request again when it is replayed after it was applied', async () => {
    const { req, result } = await challengeAndApply('alice', Action.ACTION_SUSPEND, 'web-2', [setup.principals.alice]);
    expect(result.outcome).toBe(Outcome.OUTCOME_APPLIED);
    const since = lastId();
    manager.send({ commandRequest: req }); // the same request id, in a new envelope
    const again = await manager.waitFor((b) => (b.messageId > since ? resultFor(req.requestId!)(b) : undefined), 15_000, 'repeated result');
    expect(again.completedAtMs).toBe(result.completedAtMs);
    expect(await appliedCount(req.requestId!)).toBe(1);
  });

  it('raises every alert kind, signed with the host key and journaled', async () => {
    const { alice, mallory } = setup.principals;
    const expectAlert = async (kind: AlertKind, since: number) => {
      const alert = await manager.waitFor(alertOf(kind, since), 15_000, `alert ${AlertKind[kind]}`);
      expect(verifyAlert(alert, setup.hostKey.publicKey)).toBe(true);
      return alert;
    };
    // unknown principal
    let since = lastId();
    manager.send({ commandRequest: request('eve', Action.ACTION_START, 'web-1') });
    await expectAlert(AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL, since);
    // action not permitted (alice is operator on web-* only)
    since = lastId();
    manager.send({ commandRequest: request('alice', Action.ACTION_START, 'db-1') });
    await expectAlert(AlertKind.ALERT_KIND_ACTION_NOT_PERMITTED, since);
    // bad signature
    since = lastId();
    const bad = request('alice', Action.ACTION_RESUME, 'web-2');
    manager.send({ commandRequest: bad });
    manager.send(respond(await manager.waitFor(challengeFor(bad.requestId!)), mallory));
    await expectAlert(AlertKind.ALERT_KIND_BAD_SIGNATURE, since);
    expect((await manager.waitFor(resultFor(bad.requestId!))).outcome).toBe(Outcome.OUTCOME_DENIED);
    // reused nonce
    const ok = request('alice', Action.ACTION_RESUME, 'web-2');
    manager.send({ commandRequest: ok });
    const okChallenge = await manager.waitFor(challengeFor(ok.requestId!));
    manager.send(respond(okChallenge, alice));
    await manager.waitFor(resultFor(ok.requestId!));
    since = lastId();
    manager.send(respond(okChallenge, alice));
    await expectAlert(AlertKind.ALERT_KIND_NONCE_REUSED, since);
    expect(await appliedCount(ok.requestId!)).toBe(1);
    // expired challenge (policy TTL 5 s)
    const late = request('alice', Action.ACTION_SUSPEND, 'web-2');
    manager.send({ commandRequest: late });
    const lateChallenge = await manager.waitFor(challengeFor(late.requestId!));
    await new Promise((r) => setTimeout(r, Number(lateChallenge.expiresAtMs) - Date.now() + 300));
    since = lastId();
    manager.send(respond(lateChallenge, alice));
    await expectAlert(AlertKind.ALERT_KIND_CHALLENGE_EXPIRED, since);
    expect(await appliedCount(late.requestId!)).toBe(0);
    // decryption failure: sealed under another seed
    since = lastId();
    manager.send({ commandRequest: request('alice', Action.ACTION_LIST_DOMAINS, '') }, { keys: new EnvelopeKeys(rnd(32), setup.hostId) });
    await expectAlert(AlertKind.ALERT_KIND_DECRYPTION_FAILED, since);
    // stale time step: only what cannot be benign (docs/protocol.md "Time"). A message that
    // waited ten minutes is delivered; one sealed two hours ago, held back and put after newer
    // ones were delivered and the queue was seen empty, is an attack.
    const waited = request('alice', Action.ACTION_LIST_DOMAINS, '');
    manager.send({ commandRequest: waited }, { nowMs: Date.now() - 600_000 });
    await manager.waitFor(resultFor(waited.requestId!));
    since = lastId();
    const held = manager.seal({ commandRequest: request('alice', Action.ACTION_LIST_DOMAINS, '') }, manager.allocateId(), Date.now() - 2 * 3_600_000);
    const newer = request('alice', Action.ACTION_LIST_DOMAINS, '');
    manager.send({ commandRequest: newer });
    await manager.waitFor(resultFor(newer.requestId!));
    await new Promise((r) => setTimeout(r, 500)); // the agent reads queue 1 empty
    manager.putRecords(held);
    await expectAlert(AlertKind.ALERT_KIND_STALE_TIME_STEP, since);
    // replay: the very same records of an envelope already delivered
    const listing = request('alice', Action.ACTION_LIST_DOMAINS, '');
    const records = manager.send({ commandRequest: listing });
    await manager.waitFor(resultFor(listing.requestId!));
    since = lastId();
    manager.putRecords(records);
    await expectAlert(AlertKind.ALERT_KIND_REPLAY, since);

    const journal = readFileSync(join(setup.dir, 'state', 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(new Set(journal.map((j) => j.kind))).toEqual(
      new Set(['unknown_principal', 'action_not_permitted', 'bad_signature', 'nonce_reused', 'challenge_expired', 'decryption_failed', 'stale_time_step', 'replay']),
    );
  }, 120_000);

  it('answers a request put while the agent idles (ATN wakes it)', async () => {
    // No bound on the elapsed time here (house rule: no timing assertions; it failed at 1784 and
    // 2288 ms against 1500 ms under load, mostly ipmitool's own time). Nor could one prove the
    // ATN wake: every record the agent puts (its status report, due every 2 s) resets the idle
    // poll to poll.minMs, so while idle it never waits more than ~1.3 s, below any bound that
    // tolerates this machine. The wake's latency is measured in the command-latency benchmark
    // (docs/benchmarks.md); telling an ATN wake from a poll needs the agent to count its wake reasons.
    await new Promise((r) => setTimeout(r, 3500)); // idle: nothing for the agent to read meanwhile
    manager.pump();
    const req = request('alice', Action.ACTION_LIST_DOMAINS, '');
    manager.send({ commandRequest: req });
    expect((await manager.waitFor(resultFor(req.requestId!), 10_000, 'list result')).outcome).toBe(Outcome.OUTCOME_APPLIED);
  });

  it('serves Prometheus metrics and reloads the policy on SIGHUP', async () => {
    const address = (await agent.waitFor(/"metrics":"(127\.0\.0\.1:\d+)"/, 1000))[1];
    const text = await (await fetch(`http://${address}/metrics`)).text();
    expect(text).toMatch(/hypervisor_agent_records_in_total \d+/);
    expect(text).toMatch(/hypervisor_agent_alerts_total\{kind="replay"\} 1/);
    expect(text).toMatch(/hypervisor_agent_link_up 1/);

    const denied = request('alice', Action.ACTION_DOMAIN_INFO, 'db-1');
    const policyPath = join(setup.dir, 'policy.json');
    const policy = JSON.parse(readFileSync(policyPath, 'utf8')) as { roles: Record<string, { domains: string[] }> };
    policy.roles.viewer!.domains = ['web-*'];
    writeFileSync(policyPath, JSON.stringify(policy));
    process.kill(agent.pid, 'SIGHUP');
    await agent.waitFor(/policy reloaded/, 5000);
    manager.send({ commandRequest: denied });
    expect(await manager.waitFor(resultFor(denied.requestId!))).toMatchObject({ outcome: Outcome.OUTCOME_DENIED, errorCode: 'ERR_NOT_PERMITTED' });
    policy.roles.viewer!.domains = ['*'];
    writeFileSync(policyPath, JSON.stringify(policy));
    process.kill(agent.pid, 'SIGHUP');
    await agent.waitFor(/policy reloaded[\s\S]*policy reloaded/, 5000);
  });

  it('resynchronises when the BMC restarts with empty queues, and backs off on a full queue 2 without losing results', async () => {
    await bmc.stop();
    bmc = await startBmcOem([{ name: 'oper', privilege: 'operator', password: 'e2e-secret' }], ['--vm-listen', `tcp:127.0.0.1:${vmPort}`, '--queue-capacity', '2048']);
    manager.switchBmc(bmcTarget());
    const since = lastId();
    await agent.waitFor(/BMC epoch changed/, 20_000);
    const resync = await manager.waitFor((b) => (b.messageId > since ? (b.resync ?? undefined) : undefined), 20_000, 'Resync');
    expect(resync.bmcEpoch).toBe(manager.queueInfo(1).epoch);

    // Six results of ~400 bytes each do not fit in 2048 bytes: the agent meets 0xC4.
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const req = request('alice', Action.ACTION_LIST_DOMAINS, '');
      ids.push(req.requestId!);
      manager.send({ commandRequest: req });
    }
    await agent.waitFor(/queue 2 full \(0xC4\)/, 20_000);
    for (const id of ids) expect((await manager.waitFor(resultFor(id), 30_000, `result ${id}`)).outcome).toBe(Outcome.OUTCOME_APPLIED);
  }, 90_000);

  it('kill -9 between apply and commit: restarted, it does not apply again and the result still reaches queue 2', async () => {
    // Start from a quiet link, whatever ran before: the slowed agent's challenge must not queue
    // behind bodies the manager already has (each put again on restart until our ack is read,
    // one slowed record read later) or behind the stopped agent's status reports still on
    // queue 2 (the previous test leaves a 2048-byte queue 2 full of them, and this driver reads
    // one record per ipmitool run).
    await manager.acknowledgeAll();
    await agent.stop();
    manager.pump(); // the stopped agent adds nothing more: queue 2 is empty after this
    // Each record read waits this long before its commit: long enough to kill the agent between the
    // apply and the commit (300 ms below), short next to the 5 s challenge TTL (the request, any ack
    // record before it, and the response each wait once).
    agent = await startAgent(setup, { BACKCHANNEL_FAULT_DELAY_BEFORE_COMMIT_MS: '1500' });
    // A fresh test:/// connection starts from the fixture again: web-1 is running.
    const req = request('alice', Action.ACTION_SUSPEND, 'web-1');
    manager.send({ commandRequest: req });
    const challenge = await manager.waitFor(challengeFor(req.requestId!), 30_000, 'challenge (slowed agent)');
    manager.send(respond(challenge, setup.principals.alice));
    await agent.waitFor(new RegExp(`"requestId":"${req.requestId}"[^\\n]*"msg":"applying action"`), 20_000);
    await new Promise((r) => setTimeout(r, 300)); // applied and journaled, not yet committed or sent
    expect(manager.received.some((b) => b.commandResult?.requestId === req.requestId)).toBe(false);
    await agent.crash();
    const firstRun = agent.output;

    agent = await startAgent(setup);
    const result = await manager.waitFor(resultFor(req.requestId!), 20_000, 'result after restart');
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, newState: DomainState.DOMAIN_STATE_PAUSED });
    await new Promise((r) => setTimeout(r, 250));
    const appliedAgain = (agent.output.match(new RegExp(`"requestId":"${req.requestId}"[^\\n]*"msg":"applying action"`, 'g')) ?? []).length;
    const appliedFirst = (firstRun.match(new RegExp(`"requestId":"${req.requestId}"[^\\n]*"msg":"applying action"`, 'g')) ?? []).length;
    expect([appliedFirst, appliedAgain]).toEqual([1, 0]);
    expect(manager.received.filter((b) => b.alert?.kind === AlertKind.ALERT_KIND_NONCE_REUSED && b.alert.requestId === req.requestId)).toEqual([]);
  }, 90_000);
});
