/**
 * vms-agent's links under faults, against the real bmc-oem and
 * hypervisor-agent: a dead BMC does not hold up another host, a BMC that
 * lost its queues (restart without state, new epoch) is resynchronised,
 * and a full queue 1 (cc 0xC4) slows the producer without dropping
 * anything.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface Cmd {
  id: string;
  state: string;
  result: { outcome: string; newState: string; domainInfo: { name: string } | null } | null;
}
interface Host {
  id: string;
  link: { state: string; lastError: string | null };
}
const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: VmsAgentStack;

beforeAll(async () => {
  // A small queue 1, so a handful of commands fill it while the hypervisor-agent is away.
  stack = new VmsAgentStack({ bmcArgs: ['--queue-capacity', '1500'] });
  await stack.start();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function hosts(): Promise<Host[]> {
  return (await stack.api<{ hosts: Host[] }>('GET', '/v1/hosts', 'alice')).json.hosts;
}

async function issue(domain: string, action: string): Promise<string> {
  const r = await stack.api<Cmd>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, 'alice', { action });
  expect(r.status).toBe(202);
  return r.json.id;
}

describe('vms-agent links under faults', () => {
  it('a dead BMC does not hold up the others', async () => {
    // A UDP port with nothing behind it: RMCP+ requests to it go unanswered.
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      await stack.must(['hosts', 'add', 'hv-dead', '--bmc', `127.0.0.1:${port}`, '--user', 'oper', '--password-file', `${stack.dir}/bmc.pw`]);
      const stuck = (await stack.api<Cmd>('POST', '/v1/hosts/hv-dead/domains/x/actions', 'alice', { action: 'start' })).json.id;
      // serve picks the new host up from the store within its housekeeping period
      for (let i = 0; i < 100 && (await hosts()).find((h) => h.id === 'hv-dead')?.link.state === 'stopped'; i++) await sleep(100);
      const t0 = Date.now();
      const id = await issue('web-2', 'start');
      const done = await stack.waitCommand<Cmd>(id, (c) => FINAL.has(c.state), 15_000);
      expect(done.state).toBe('applied');
      expect(Date.now() - t0).toBeLessThan(5_000);
      const dead = (await hosts()).find((h) => h.id === 'hv-dead');
      expect(dead?.link.state).toMatch(/^(connecting|backoff)$/);
      expect((await stack.api<Cmd>('GET', `/v1/commands/${stuck}`, 'alice')).json.state).toBe('queued');
      expect((await hosts()).find((h) => h.id === 'hv-01')?.link.state).toBe('up');
    } finally {
      silent.close();
    }
  }, 30_000);

  it('resynchronises after the BMC lost its queues (new epoch)', async () => {
    await stack.restartBmc(false);
    const id = await issue('web-2', 'suspend');
    // suspend on web-* needs alice and bob (k-of-n in the stack's policy): approve as bob once challenged
    await stack.waitCommand<Cmd>(id, (c) => c.state === 'awaiting_approval', 30_000);
    expect((await stack.cli(['approve', id, '--key', stack.bobKeyFile], 'bob')).code).toBe(0);
    const done = await stack.waitCommand<Cmd>(id, (c) => FINAL.has(c.state), 30_000);
    expect(done.state).toBe('applied');
    expect(stack.appliedCount(id)).toBe(1);
    const metrics = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.tokens.alice}` } }).then((r) => r.text());
    expect(metrics).toMatch(/vms_agent_reconnects_total\{host="hv-01"\} [1-9]/);
  }, 60_000);

  it('backs off on a full queue 1 (0xC4) and delivers everything once the host drains it', async () => {
    await stack.agent.stop();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await issue('web-1', 'domain_info'));
    let full = '';
    for (let i = 0; i < 100 && !/vms_agent_queue_full_total\{host="hv-01"\} [1-9]/.test(full); i++) {
      await sleep(100);
      full = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.tokens.alice}` } }).then((r) => r.text());
    }
    expect(full).toMatch(/vms_agent_queue_full_total\{host="hv-01"\} [1-9]/);
    await stack.startAgent();
    for (const id of ids) {
      const c = await stack.waitCommand<Cmd>(id, (x) => FINAL.has(x.state), 30_000);
      expect(c.state).toBe('applied');
      expect(c.result?.domainInfo?.name).toBe('web-1');
      expect(stack.appliedCount(id)).toBeLessThanOrEqual(1);
    }
  }, 60_000);
});
