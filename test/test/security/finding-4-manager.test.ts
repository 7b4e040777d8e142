/**
 * Issue 13, finding 4 (low), the manager's and the host's part, against the
 * whole running stack (vms-agent serve, bmc-oem, hypervisor-agent):
 * - a token in the query string (`?token=`, rejected) was written to
 *   vms-agent's log;
 * - duplicate JSON keys were accepted: `{"action":"domain_info","action":"destroy"}`
 *   destroyed a domain;
 * - vms-agent's SQLite files were created 0644.
 * The processes run with umask 022, as the attack found them, so every 0600
 * below is the daemons' doing.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

let stack: VmsAgentStack;
let umask = 0;
beforeAll(async () => {
  umask = process.umask(0o022);
  stack = new VmsAgentStack();
  await stack.start();
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  process.umask(umask);
});

async function domainState(name: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const { json } = await stack.api<{ domains?: { name: string; state: string }[] }>('GET', '/v1/hosts/hv-01/domains', 'alice');
    const d = json.domains?.find((x) => x.name === name);
    if (d) return d.state;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

describe('finding 4 (manager): query strings stay out of the log, duplicate keys are refused', { timeout: 120_000 }, () => {
  it('?token= is refused (401) and neither the token nor any query string reaches the serve log', async () => {
    const secret = stack.tokens.alice!;
    for (const query of [`token=${secret}`, `access_token=${secret}`, `host=hv-01&token=${secret}`]) {
      const res = await fetch(`${stack.url}/v1/alerts?${query}`);
      expect(res.status, query).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('credentials in the URL are refused') });
    }
    // Next to a valid header too: the URL has leaked already.
    const both = await fetch(`${stack.url}/v1/hosts?token=${secret}`, { headers: { authorization: `Bearer ${secret}` } });
    expect(both.status).toBe(401);
    await stack.vms.waitFor(/"path":"\/v1\/hosts","query":"\[redacted\]"[^\n]*"status":401/, 5000);
    const log = stack.vms.output;
    expect(log).not.toContain(secret);
    expect(log).not.toContain(secret.slice(-16));
    expect(log).not.toContain('token=');
    expect(log.match(/"query":"\[redacted\]"/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('{"action":"domain_info","action":"destroy"} is refused with VALIDATION_FAILED; the domain keeps running', async () => {
    expect(await domainState('web-1')).toBe('running');
    for (const body of ['{"action":"domain_info","action":"destroy"}', '{"action":"domain_info","\\u0061ction":"destroy"}']) {
      const res = await fetch(`${stack.url}/v1/hosts/hv-01/domains/web-1/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.tokens.alice}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('body has the key "action" twice') });
    }
    expect((await stack.api<{ commands: unknown[] }>('GET', '/v1/commands', 'alice')).json.commands).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(stack.agent.output).not.toContain('applying action');
    expect(await domainState('web-1')).toBe('running');
  });
});

describe('finding 4 (secrets at rest): every file holding a secret, a token hash or command history is owner-only', { timeout: 120_000 }, () => {
  it('after commands went through: the SQLite store with its WAL and SHM, the master key, the enrollment bundle, the agent\'s keys and state, the BMC\'s state', async () => {
    const r = await stack.cli(['vm', 'start', 'hv-01', 'web-2', '--wait', '--timeout', '30', '--json'], 'alice');
    expect(r.code, r.stderr).toBe(0);
    const d = stack.dir;
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    const secrets = [
      ...readdirSync(d).filter((f) => f.startsWith('vms.db')).map((f) => join(d, f)),
      join(d, 'master.key'),
      join(d, 'hv-01.bundle.json'),
      join(d, 'agent', 'seed'),
      join(d, 'agent', 'host.key'),
      ...files(join(d, 'agent', 'state')),
      ...files(join(d, 'bmc-state')),
    ];
    const names = secrets.map((p) => relative(d, p));
    // The store really is in WAL mode with both side files present, and the agent journaled the command.
    expect(names).toEqual(expect.arrayContaining(['vms.db', 'vms.db-wal', 'vms.db-shm']));
    expect(names.some((n) => n.startsWith('agent/state/'))).toBe(true);
    expect(names.some((n) => n.startsWith('bmc-state/'))).toBe(true);
    expect(Object.fromEntries(secrets.map((p) => [relative(d, p), mode(p)]))).toEqual(Object.fromEntries(names.map((n) => [n, '600'])));
    // Directories the daemons created themselves.
    expect(mode(join(d, 'agent', 'state'))).toBe('700');
    // Nothing in this file was an attack on a host: no alert.
    expect((await stack.api<{ alerts: unknown[] }>('GET', '/v1/alerts', 'alice')).json.alerts).toEqual([]);
  });
});
