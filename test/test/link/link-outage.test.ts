/**
 * The conditions of an outage, through the whole built stack (bmc-oem,
 * hypervisor-agent, vms-agent serve on 127.0.0.1):
 * - a wrong BMC password stops the link's retries (`auth_failed`, no lockout);
 * - a foreign producer on queue 1 is detected at the next Put (alert naming the
 *   host, resync), the records it put raise the agent's malformed_record;
 * - a manager store restored from an older copy resynchronises (incarnation in
 *   Hello) and new commands apply exactly once.
 * The clock cases (faketime) are in clock-skew.test.ts.
 */
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmitool, ipmitoolAvailable, parseRawOutput } from '../../src/harness/ipmitool.js';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface Cmd {
  id: string;
  state: string;
}
interface Host {
  id: string;
  link: { state: string; sinceMs: number | null; lastError: string | null; clockOffsetMs?: number | null };
}
interface Alert {
  hostId: string;
  kind: string;
  reason: string;
  signatureStatus: string;
}
const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: VmsAgentStack;

beforeAll(async () => {
  // No periodic status reports: vms-agent puts on queue 1 only when a test asks it to.
  stack = new VmsAgentStack({ agentConfig: { reportIntervalSeconds: 3600, statePollSeconds: 3600 } });
  await stack.start();
}, 240_000); // set-up runs a dozen CLI processes: slow on a loaded machine

afterAll(async () => {
  await stack?.stop();
});

async function hosts(): Promise<Host[]> {
  return (await stack.api<{ hosts: Host[] }>('GET', '/v1/hosts', 'alice')).json.hosts;
}

async function alerts(): Promise<Alert[]> {
  return (await stack.api<{ alerts: Alert[] }>('GET', '/v1/alerts', 'sec')).json.alerts;
}

async function run(domain: string, action: string): Promise<Cmd> {
  const r = await stack.api<Cmd>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, 'alice', { action });
  expect(r.status).toBe(202);
  return stack.waitCommand<Cmd>(r.json.id, (c) => FINAL.has(c.state), 30_000);
}

async function metric(name: string, host: string): Promise<number> {
  const text = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.tokens.alice}` } }).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`host="${host}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('link under outage conditions', () => {
  it('a wrong BMC password: link auth_failed with a clear lastError, no retry into a lockout', async () => {
    writeFileSync(join(stack.dir, 'wrong.pw'), 'not-the-password\n', { mode: 0o600 });
    await stack.must(['hosts', 'add', 'hv-bad', '--bmc', `127.0.0.1:${stack.rmcpPort}`, '--user', 'oper', '--password-file', join(stack.dir, 'wrong.pw')]);
    let bad: Host | undefined;
    for (let i = 0; i < 200 && bad?.link.state !== 'auth_failed'; i++) {
      await sleep(100);
      bad = (await hosts()).find((h) => h.id === 'hv-bad');
    }
    expect(bad?.link.state).toBe('auth_failed');
    expect(bad?.link.lastError).toMatch(/wrong BMC password: not retried .* until the host's BMC credentials change in the store, or .*\(in 10 min\)/);
    // Several seconds later: still the same failed attempt, no reconnect loop.
    await sleep(5000);
    const later = (await hosts()).find((h) => h.id === 'hv-bad');
    expect(later?.link).toMatchObject({ state: 'auth_failed', sinceMs: bad?.link.sinceMs });
    expect(await metric('vms_agent_reconnects_total', 'hv-bad')).toBe(0);
    // The user is not locked out: a link with the right password on the same user works.
    expect((await run('web-1', 'domain_info')).state).toBe('applied');
    await stack.must(['hosts', 'remove', 'hv-bad']);
    expect((await alerts()).filter((a) => a.hostId === 'hv-01')).toEqual([]);
  }, 60_000);

  it.skipIf(!ipmitoolAvailable())('a foreign producer on queue 1: detected at the next Put, alert naming the host, resync without a retransmission', async () => {
    await sleep(1000); // the last command's acks and status report are through
    const target = { port: stack.rmcpPort, user: 'oper', passwordFile: join(stack.dir, 'bmc.pw'), cipherSuite: 17, privilege: 'OPERATOR' as const };
    const raw = (bytes: number[]) => {
      const r = ipmitool(target, ['raw', ...bytes.map((b) => `0x${b.toString(16)}`)]);
      if (r.status !== 0) throw new Error(`ipmitool raw: ${r.stderr}`);
      return Buffer.from(parseRawOutput(r.stdout));
    };
    const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
    // Three records that are no fragment of anything, each at the seq vms-agent would use next.
    for (let i = 0; i < 3; i++) {
      const lastPut = raw([0x2e, 0x00, 0xd9, 0x7e, 0x00, 0x01]).readUInt32LE(20);
      raw([0x2e, 0x01, 0xd9, 0x7e, 0x00, 0x01, ...u32(lastPut + 1), 0xde, 0xad]);
    }
    const retransmissionsBefore = await metric('vms_agent_retransmissions_total', 'hv-01');
    expect((await run('web-1', 'domain_info')).state).toBe('applied');
    expect(await metric('vms_agent_foreign_producer_total', 'hv-01')).toBeGreaterThanOrEqual(1);
    expect(await metric('vms_agent_retransmissions_total', 'hv-01')).toBe(retransmissionsBefore);
    let got: Alert[] = [];
    for (let i = 0; i < 100 && !got.some((a) => a.kind === 'malformed_record'); i++) {
      await sleep(100);
      got = await alerts();
    }
    const foreign = got.filter((a) => a.kind === 'foreign_producer');
    expect(foreign).toHaveLength(1);
    expect(foreign[0]).toMatchObject({ hostId: 'hv-01', signatureStatus: 'manager' });
    expect(foreign[0]!.reason).toMatch(/another producer put records on BMC queue 1 of host hv-01/);
    // The agent saw three malformed records and raised one (rate-limited) signed alert.
    const malformed = got.filter((a) => a.kind === 'malformed_record');
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatchObject({ hostId: 'hv-01', signatureStatus: 'verified' });
  }, 60_000);

  it('a manager store restored from an older copy: new commands apply exactly once', async () => {
    const db = join(stack.dir, 'vms.db');
    const files = ['', '-wal', '-shm'];
    await stack.vms.stop();
    for (const f of files) if (existsSync(db + f)) copyFileSync(db + f, `${db}${f}.backup`);
    await stack.startVms();
    const before = [await run('web-1', 'domain_info'), await run('web-2', 'domain_info')];
    expect(before.map((c) => c.state)).toEqual(['applied', 'applied']);
    await stack.vms.stop();
    for (const f of files) {
      rmSync(db + f, { force: true });
      if (existsSync(`${db}${f}.backup`)) copyFileSync(`${db}${f}.backup`, db + f);
    }
    await stack.startVms();
    const after = [await run('web-1', 'domain_info'), await run('web-2', 'domain_info')];
    expect(after.map((c) => c.state)).toEqual(['applied', 'applied']);
    for (const c of [...before, ...after]) expect(stack.appliedCount(c.id)).toBe(1);
  }, 90_000);
});
