/**
 * Acceptance (issue 6) against the real chain: vms-agent serve, bmc-oem,
 * hypervisor-agent on libvirt's test driver. A command issued at the API
 * is applied and its result and the new domain state come back; an
 * operator-held approval with `vms-agent approve` completes a waiting
 * command; k-of-n; a denied command raises an alert at /v1/alerts; kill -9
 * of vms-agent with commands in flight loses none and applies none twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface Cmd {
  id: string;
  state: string;
  responseSent: boolean;
  approvals: { principal: string; custodial: boolean }[];
  result: { outcome: string; previousState: string; newState: string; errorCode: string } | null;
}
interface Domains {
  domains: { name: string; state: string }[];
}

const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
let stack: VmsAgentStack;

beforeAll(async () => {
  stack = new VmsAgentStack();
  await stack.start();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function domainState(name: string): Promise<string | undefined> {
  const { json } = await stack.api<Domains>('GET', '/v1/hosts/hv-01/domains', 'alice');
  return json.domains?.find((d) => d.name === name)?.state;
}

async function waitDomain(name: string, state: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await domainState(name)) === state) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} never reported ${state}`);
}

describe('vms-agent against bmc-oem and hypervisor-agent (libvirt test driver)', () => {
  it('brings the link up and shows the host status report', async () => {
    let hosts: { link: { state: string }; status: { ageMs: number } | null }[] = [];
    for (let i = 0; i < 100; i++) {
      hosts = (await stack.api<{ hosts: typeof hosts }>('GET', '/v1/hosts', 'alice')).json.hosts;
      if (hosts[0]?.link.state === 'up' && hosts[0].status) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(hosts[0]?.link.state).toBe('up');
    expect(hosts[0]?.status).not.toBeNull();
    const list = await stack.cli(['vm', 'list', 'hv-01'], 'alice');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/web-2\s+shutoff/);
    const q = await stack.cli(['bmc', 'queue-info', 'hv-01', '--json']);
    expect(q.code, q.stderr).toBe(0);
    expect((JSON.parse(q.stdout) as { queue: number; maxRecord: number }[]).map((x) => [x.queue, x.maxRecord])).toEqual([
      [1, 200],
      [2, 200],
    ]);
  });

  it('custodial: vm start --wait is applied and the new state comes back', async () => {
    const r = await stack.cli(['vm', 'start', 'hv-01', 'web-2', '--wait', '--timeout', '30', '--json'], 'alice');
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as Cmd;
    expect(c.state).toBe('applied');
    expect(c.result).toMatchObject({ outcome: 'applied', previousState: 'shutoff', newState: 'running' });
    expect(c.approvals).toEqual([expect.objectContaining({ principal: 'alice', custodial: true })]);
    // The fleet view has it as soon as the command is final: the result updated the stored status report.
    expect(await domainState('web-2')).toBe('running');
    expect(stack.appliedCount(c.id)).toBe(1);
  });

  it('operator-held: the command waits until `vms-agent approve --key` signs it', async () => {
    const issued = await stack.api<Cmd>('POST', '/v1/hosts/hv-01/domains/web-1/actions', 'bob', { action: 'destroy' });
    expect(issued.status).toBe(202);
    await stack.waitCommand<Cmd>(issued.json.id, (c) => c.state === 'awaiting_approval');
    const approve = await stack.cli(['approve', issued.json.id, '--key', stack.bobKeyFile], 'bob');
    expect(approve.code, approve.stderr).toBe(0);
    const done = await stack.waitCommand<Cmd>(issued.json.id, (c) => FINAL.has(c.state));
    expect(done.state).toBe('applied');
    expect(done.result?.newState).toBe('shutoff');
    expect(done.approvals).toEqual([expect.objectContaining({ principal: 'bob', custodial: false })]);
    await waitDomain('web-1', 'shutoff');
  });

  it('k-of-n: suspend on web-* needs alice (custodial) and bob (operator key)', async () => {
    const issued = await stack.api<Cmd>('POST', '/v1/hosts/hv-01/domains/web-2/actions', 'alice', { action: 'suspend' });
    const waiting = await stack.waitCommand<Cmd>(issued.json.id, (c) => c.state === 'awaiting_approval' && c.approvals.length === 1);
    expect(waiting.responseSent).toBe(false);
    expect((await stack.cli(['approve', issued.json.id, '--key', stack.bobKeyFile], 'bob')).code).toBe(0);
    const done = await stack.waitCommand<Cmd>(issued.json.id, (c) => FINAL.has(c.state));
    expect(done.state).toBe('applied');
    expect(done.approvals.map((a) => a.principal)).toEqual(['alice', 'bob']);
    await waitDomain('web-2', 'paused');
  });

  it('a denied command ends denied and its signed alert is at /v1/alerts', async () => {
    const r = await stack.cli(['vm', 'start', 'hv-01', 'web-1', '--wait', '--timeout', '30', '--json'], 'mallory');
    expect(r.code).toBe(6);
    // mallory is not in the host's policy (her request goes unsigned: vms-agent signs challenges, not requests, by default).
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'denied', result: { outcome: 'denied', errorCode: 'ERR_UNKNOWN_PRINCIPAL' } });
    let alerts: { kind: string; principal: string; signatureStatus: string; id: number }[] = [];
    for (let i = 0; i < 50 && alerts.length === 0; i++) {
      alerts = (await stack.api<{ alerts: typeof alerts }>('GET', '/v1/alerts?principal=mallory', 'alice')).json.alerts;
      if (alerts.length === 0) await new Promise((r2) => setTimeout(r2, 100));
    }
    expect(alerts).toEqual([expect.objectContaining({ kind: 'unknown_principal', principal: 'mallory', signatureStatus: 'verified' })]);
    // Only the security role acknowledges, with a comment, and never an alert about itself.
    expect((await stack.cli(['alerts', 'ack', String(alerts[0]!.id), '--comment', 'not me'], 'mallory')).code).toBe(4);
    const ack = await stack.cli(['alerts', 'ack', String(alerts[0]!.id), '--comment', 'mallory is the red-team account', '--json'], 'sec');
    expect(ack.code, ack.stderr).toBe(0);
    expect(JSON.parse(ack.stdout)).toMatchObject({ acknowledged: true, acknowledgedBy: 'sec', acknowledgedComment: 'mallory is the red-team account' });
  });

  it('kill -9 with commands in flight: after restart every command is final, none lost, none applied twice', async () => {
    const ids: string[] = [];
    for (const [domain, action] of [['web-1', 'start'], ['web-2', 'resume'], ['db-1', 'resume']] as const) {
      const r = await stack.api<Cmd>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, 'alice', { action });
      expect(r.status).toBe(202);
      ids.push(r.json.id);
    }
    await stack.vms.crash();
    await stack.startVms();
    for (const id of ids) {
      const c = await stack.waitCommand<Cmd>(id, (x) => FINAL.has(x.state), 30_000);
      expect(c.state, `${id}: ${JSON.stringify(c.result)}`).toBe('applied');
      expect(stack.appliedCount(id)).toBe(1);
    }
    await waitDomain('web-1', 'running');
    await waitDomain('db-1', 'running');
  }, 60_000);

  it('kill -9 while a command awaits approval: after restart the approval still completes it once', async () => {
    const issued = await stack.api<Cmd>('POST', '/v1/hosts/hv-01/domains/db-1/actions', 'bob', { action: 'suspend' });
    await stack.waitCommand<Cmd>(issued.json.id, (c) => c.state === 'awaiting_approval');
    await stack.vms.crash();
    await stack.startVms();
    const approve = await stack.cli(['approve', issued.json.id, '--key', stack.bobKeyFile], 'bob');
    expect(approve.code, approve.stderr).toBe(0);
    const done = await stack.waitCommand<Cmd>(issued.json.id, (c) => FINAL.has(c.state), 30_000);
    expect(done.state).toBe('applied');
    expect(stack.appliedCount(issued.json.id)).toBe(1);
    await waitDomain('db-1', 'paused');
  }, 60_000);
});
