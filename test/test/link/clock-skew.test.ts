/**
 * A hypervisor whose clock is off (no NTP during an outage): the real
 * hypervisor-agent runs under libfaketime (Debian `faketime`, scripts/bootstrap)
 * with its clock shifted +75 s, +10 min and -10 min. Commands apply (custodial,
 * and operator-held: the challenge's expiry is judged on the manager's clock
 * through the learned offset), no alert is raised, and GET /v1/hosts shows the
 * offset the channel learned.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1'].find((p) => existsSync(p));

interface Cmd {
  id: string;
  state: string;
}
interface Host {
  id: string;
  link: { state: string; lastError: string | null; clockOffsetMs?: number | null };
}
const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!LIBFAKETIME).each([
  { faketime: '+75s', skewMs: 75_000 },
  { faketime: '+10m', skewMs: 600_000 },
  { faketime: '-10m', skewMs: -600_000 },
])('hypervisor-agent clock $faketime', ({ faketime, skewMs }) => {
  let stack: VmsAgentStack;

  beforeAll(async () => {
    stack = new VmsAgentStack({ agent: { env: { LD_PRELOAD: LIBFAKETIME, FAKETIME: faketime, FAKETIME_DONT_FAKE_MONOTONIC: '1' } } });
    await stack.start();
  }, 240_000); // set-up runs a dozen CLI processes: slow on a loaded machine

  afterAll(async () => {
    await stack?.stop();
  });

  it('applies commands, raises no alert, and shows the offset in GET /v1/hosts', async () => {
    for (const [domain, action] of [['web-1', 'domain_info'], ['web-2', 'start'], ['web-2', 'destroy']] as const) {
      const r = await stack.api<Cmd>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, 'alice', { action });
      expect(r.status).toBe(202);
      const done = await stack.waitCommand<Cmd>(r.json.id, (c) => FINAL.has(c.state), 30_000);
      expect(done.state).toBe('applied');
      expect(stack.appliedCount(done.id)).toBe(1);
    }
    let host: Host | undefined;
    for (let i = 0; i < 50 && typeof host?.link.clockOffsetMs !== 'number'; i++) {
      host = (await stack.api<{ hosts: Host[] }>('GET', '/v1/hosts', 'alice')).json.hosts.find((h) => h.id === 'hv-01');
      if (typeof host?.link.clockOffsetMs !== 'number') await sleep(100);
    }
    expect(host?.link).toMatchObject({ state: 'up', lastError: null });
    // The offset less the one-way delay of the quickest message: within a second or two of the shift.
    expect(Math.abs((host?.link.clockOffsetMs ?? 0) - skewMs)).toBeLessThan(2_000);
    const metrics = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.tokens.alice}` } }).then((r) => r.text());
    const gauge = metrics.split('\n').find((l) => l.startsWith('vms_agent_link_clock_offset_seconds{host="hv-01"}'));
    expect(Math.abs(Number(gauge?.split(' ').at(-1)) - skewMs / 1000)).toBeLessThan(2);
    // Operator-held: bob approves with his key through the CLI. A host 10 min behind issues a
    // challenge that, read on the manager's clock, expired 9 minutes ago.
    const held = await stack.api<Cmd & { challenge: { expiresAtMs: number; managerExpiresAtMs: number } | null }>('POST', '/v1/hosts/hv-01/domains/web-2/actions', 'bob', { action: 'start' });
    expect(held.status).toBe(202);
    const waiting = await stack.waitCommand<Cmd & { challenge: { expiresAtMs: number; managerExpiresAtMs: number } }>(held.json.id, (c) => c.state === 'awaiting_approval', 30_000);
    expect(Math.abs(waiting.challenge.expiresAtMs - waiting.challenge.managerExpiresAtMs - skewMs)).toBeLessThan(2_000);
    const approve = await stack.cli(['approve', held.json.id, '--key', stack.bobKeyFile], 'bob');
    expect(approve.code, approve.stderr).toBe(0);
    expect((await stack.waitCommand<Cmd>(held.json.id, (c) => FINAL.has(c.state), 30_000)).state).toBe('applied');
    // A few seconds of status reports and acks more: still no alert.
    await sleep(3000);
    expect((await stack.api<{ alerts: unknown[] }>('GET', '/v1/alerts', 'sec')).json.alerts).toEqual([]);
  }, 60_000);
});

describe.skipIf(!LIBFAKETIME)('hypervisor-agent clock +2h (beyond tolerance)', () => {
  let stack: VmsAgentStack;

  beforeAll(async () => {
    stack = new VmsAgentStack({ agent: { env: { LD_PRELOAD: LIBFAKETIME, FAKETIME: '+2h', FAKETIME_DONT_FAKE_MONOTONIC: '1' } } });
    await stack.start();
  }, 240_000); // set-up runs a dozen CLI processes: slow on a loaded machine

  afterAll(async () => {
    await stack?.stop();
  });

  it('is link state clock_skew with the measured offset in lastError: no silent stall, no alert', async () => {
    let host: Host | undefined;
    for (let i = 0; i < 100 && host?.link.state !== 'clock_skew'; i++) {
      await sleep(100);
      host = (await stack.api<{ hosts: Host[] }>('GET', '/v1/hosts', 'alice')).json.hosts.find((h) => h.id === 'hv-01');
    }
    expect(host?.link.state).toBe('clock_skew');
    // A few status reports more: the estimate keeps the sample with the least transit delay.
    await sleep(5000);
    host = (await stack.api<{ hosts: Host[] }>('GET', '/v1/hosts', 'alice')).json.hosts.find((h) => h.id === 'hv-01');
    expect(host?.link.state).toBe('clock_skew');
    expect(host?.link.lastError).toMatch(/^the host's clock is 2 h 0 min ahead of the manager's, beyond the channel's tolerance of 15 min/);
    expect(Math.abs((host?.link.clockOffsetMs ?? 0) - 7_200_000)).toBeLessThan(5_000);
    expect((await stack.api<{ alerts: unknown[] }>('GET', '/v1/alerts', 'sec')).json.alerts).toEqual([]);
  }, 30_000);
});
