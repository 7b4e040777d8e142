/**
 * `ipmitool mc reset cold` (stock ipmitool, an administrator session) against
 * bmc-oem while vms-agent streams commands to the hypervisor-agent through it
 * (issue 16, "mc reset cold during a stream of commands"): the daemon drops
 * every RMCP+ session and the host connection and rebuilds its service, with
 * its queues kept in --state-dir. Both peers must notice, reconnect and
 * resynchronise by themselves: every command reaches a final state, none is
 * lost, none is applied twice, and no security alert is raised (nothing here
 * is an attack).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmitool, ipmitoolAvailable } from '../../src/harness/ipmitool.js';
import { type StackOptions, VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface Cmd {
  id: string;
  state: string;
  result: { outcome: string; errorCode: string | null } | null;
}
const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
/** Commands before the reset and after it. */
const BEFORE = 15;
const AFTER = 15;

let stack: VmsAgentStack;

beforeAll(async () => {
  const options: StackOptions = {};
  stack = new VmsAgentStack(options);
  writeFileSync(join(stack.dir, 'admin.pw'), 'admin-secret\n', { mode: 0o600 });
  options.bmcArgs = ['--user', `admin:administrator:${join(stack.dir, 'admin.pw')}`];
  await stack.start();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function issue(domain: string, action: string): Promise<string> {
  const r = await stack.api<Cmd>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, 'alice', { action });
  expect(r.status).toBe(202);
  return r.json.id;
}

/** A mix the stack's policy lets alice do alone: reads of every domain and state changes of db-1. */
function nextCommand(i: number): [string, string] {
  const reads: [string, string][] = [['web-1', 'domain_info'], ['web-2', 'domain_info'], ['db-1', 'domain_info']];
  if (i % 4 === 3) return ['db-1', i % 8 === 3 ? 'destroy' : 'start'];
  return reads[i % reads.length] as [string, string];
}

describe.skipIf(!ipmitoolAvailable())('bmc-oem cold reset during a stream of commands', () => {
  it('every command final, none lost or applied twice, peers resynchronised, no alert', async () => {
    const alertsBefore = (await stack.api<{ alerts: unknown[] }>('GET', '/v1/alerts', 'sec')).json.alerts.length;
    const ids: string[] = [];
    for (let i = 0; i < BEFORE; i++) ids.push(await issue(...nextCommand(i)));

    const reset = ipmitool({ port: stack.rmcpPort, user: 'admin', passwordFile: join(stack.dir, 'admin.pw'), cipherSuite: 17, privilege: 'ADMINISTRATOR' }, ['mc', 'reset', 'cold']);
    expect(reset.status, reset.stderr).toBe(0);
    await stack.bmc.waitFor(/cold reset done/, 10_000);

    for (let i = BEFORE; i < BEFORE + AFTER; i++) ids.push(await issue(...nextCommand(i)));
    const done: Cmd[] = [];
    for (const id of ids) done.push(await stack.waitCommand<Cmd>(id, (c) => FINAL.has(c.state), 60_000));

    for (const c of done) {
      // db-1's start/destroy may find it already in that state (failed, unchanged); nothing is denied or expired.
      expect(['applied', 'failed'], `${c.id} ${c.state} ${c.result?.errorCode ?? ''}`).toContain(c.state);
      expect(stack.appliedCount(c.id), `${c.id} applied ${stack.appliedCount(c.id)} times`).toBe(1);
    }
    expect(done.filter((c) => c.state === 'applied').length).toBeGreaterThanOrEqual(((BEFORE + AFTER) * 3) / 4 - 1);
    // The reset really cut both peers off: vms-agent reconnected its RMCP+ link.
    const metrics = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.tokens.alice}` } }).then((r) => r.text());
    expect(metrics).toMatch(/vms_agent_reconnects_total\{host="hv-01"\} [1-9]/);
    const alertsAfter = (await stack.api<{ alerts: unknown[] }>('GET', '/v1/alerts', 'sec')).json.alerts.length;
    expect(alertsAfter - alertsBefore).toBe(0);
  }, 120_000);
});
