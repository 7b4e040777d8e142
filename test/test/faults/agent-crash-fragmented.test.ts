/**
 * Regression (found by the fault-injection run, seed 13): the hypervisor-agent
 * was killed while applying a command whose challenge response spanned
 * several queue records. Reading each record commits (releases) the ones
 * before it on the BMC, and the agent kept the partial message only in
 * memory: after the restart the last record could not be reassembled, the
 * manager's retransmission (re-sealed, so a different envelope) was taken
 * for a new response, and the agent raised a false `nonce_reused` security
 * alert. The agent now keeps the records of a partial message with its read
 * cursor, so the original envelope is completed and handled as a
 * re-delivery.
 */
import { existsSync } from 'node:fs';
import { Action, type Body, type Challenge, DomainState, Outcome, signChallenge } from '@backchannel/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_MAIN, type AgentSetup, prepareAgent, rnd, startAgent, stopAgentRun } from '../../src/agent-e2e/agent-process.js';
import { ManagerDriver, type Received } from '../../src/agent-e2e/manager-driver.js';
import { ipmitoolAvailable } from '../../src/harness/ipmitool.js';
import type { ManagedProcess } from '../../src/harness/managed-process.js';
import { freeTcpPort } from '../../src/harness/ports.js';
import { BMC_OEM_MAIN, type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';

const ready = ipmitoolAvailable() && existsSync(AGENT_MAIN) && existsSync(BMC_OEM_MAIN);

describe.skipIf(!ready)('hypervisor-agent killed mid-apply of a multi-record message (needs ipmitool and the built daemons)', () => {
  let bmc: BmcOemInstance;
  let setup: AgentSetup;
  let agent: ManagedProcess;

  beforeAll(async () => {
    const vmPort = await freeTcpPort();
    bmc = await startBmcOem([{ name: 'oper', privilege: 'operator', password: 'e2e-secret' }], ['--vm-listen', `tcp:127.0.0.1:${vmPort}`]);
    setup = prepareAgent(vmPort);
  }, 60_000);

  afterAll(() => stopAgentRun({ agent, bmc, setup }));

  it('after the restart the response is a re-delivery: applied once, result sent, no nonce_reused alert', async () => {
    // Each record's commit waits, so the kill lands after the apply and before the last commit.
    agent = await startAgent(setup, { BACKCHANNEL_FAULT_DELAY_BEFORE_COMMIT_MS: '1500' });
    // Records of 90 bytes: the challenge response takes several.
    const manager = new ManagerDriver({ target: { port: bmc.port, user: 'oper', passwordFile: bmc.passwordFile('oper'), cipherSuite: 17, privilege: 'OPERATOR' }, seed: setup.seed, hostId: setup.hostId, randomBytes: rnd, maxRecord: 90 });
    await manager.waitFor((b) => b.hello ?? undefined, 20_000, 'Hello');
    const requestId = `frag-${Date.now()}`;
    manager.send({ commandRequest: { requestId, principal: 'alice', action: Action.ACTION_SUSPEND, domain: 'web-1', hostId: setup.hostId, issuedAtMs: Date.now() } });
    const challenge = await manager.waitFor((b: Received) => (b.challenge?.requestId === requestId ? (b.challenge as Challenge) : undefined), 30_000, 'challenge');
    const response: Body = { challengeResponse: { requestId, nonce: challenge.nonce, signatures: [signChallenge(challenge, setup.principals.alice)] } };
    const id = manager.allocateId();
    const records = manager.seal(response, id);
    expect(records.length).toBeGreaterThan(1);
    manager.putRecords(records);
    const applying = new RegExp(`"requestId":"${requestId}"[^\\n]*"msg":"applying action"`, 'g');
    await agent.waitFor(applying, 30_000);
    await agent.crash();
    const firstRun = agent.output;

    agent = await startAgent(setup);
    // What vms-agent does after the agent's Hello: the same body under the same id, sealed afresh.
    manager.putRecords(manager.seal(response, id));
    const result = await manager.waitFor((b: Received) => (b.commandResult?.requestId === requestId ? b.commandResult : undefined), 30_000, 'result after restart');
    // Applied before the kill (its result journaled) or interrupted by it: either way once, and reported.
    expect([Outcome.OUTCOME_APPLIED, Outcome.OUTCOME_FAILED]).toContain(result.outcome);
    if (result.outcome === Outcome.OUTCOME_APPLIED) expect(result.newState).toBe(DomainState.DOMAIN_STATE_PAUSED);
    // Give the retransmitted copy time to be read, then look for alerts.
    await new Promise((r) => setTimeout(r, 1500));
    manager.pump();
    expect((firstRun.match(applying) ?? []).length + (agent.output.match(applying) ?? []).length).toBe(1);
    expect(manager.received.filter((b) => b.alert && b.alert.requestId === requestId).map((b) => b.alert?.kind)).toEqual([]);
    expect(agent.output).not.toMatch(/"alert":"nonce_reused"/);
  }, 120_000);
});
