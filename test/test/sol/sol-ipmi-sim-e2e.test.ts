/**
 * Acceptance for the channel over Serial-over-LAN through a BMC nobody here
 * wrote: OpenIPMI's ipmi_sim (suite 3, explicit privilege) bridges its SOL
 * payload to a host serial line (a software null modem), the hypervisor-agent
 * sits on that line (`link: tcp:...`, what `serial:/dev/ttyS1@115200` is on a
 * server), vms-agent reaches the host with `hostTransports: {"hv-01": "sol"}`.
 * Every action is applied exactly once, the status report and an alert come
 * back; then with garbage on the line, the SOL session dropped by the BMC
 * mid-message, and a hypervisor-agent restart, nothing is lost or applied twice.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipmiSimAvailable } from '../../src/interop/rmcp-client-ipmi-sim.js';
import { startIpmiSimSol, type IpmiSimSol } from '../../src/sol/ipmi-sim-sol.js';
import { NullModem } from '../../src/sol/null-modem.js';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface Cmd {
  id: string;
  state: string;
  result: { outcome: string; newState: string; errorCode: string } | null;
}
const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);
const ipmitool = spawnSync('ipmitool', ['-V'], { stdio: 'ignore' }).status === 0;

let modem: NullModem;
let sim: IpmiSimSol;
let stack: VmsAgentStack;

describe.skipIf(!ipmiSimAvailable() || !ipmitool)('the channel over SOL through ipmi_sim [needs ipmi_sim, ipmitool]', () => {
  beforeAll(async () => {
    modem = await NullModem.open();
    sim = await startIpmiSimSol({ solPort: modem.ports.bmc, operPassword: 'oper-secret' });
    stack = new VmsAgentStack({
      // bmc-oem is started by the stack but unused: vms-agent's host points at ipmi_sim.
      route: async (b) => ({ rmcpPort: sim.port, vmPort: b.vmPort }),
      agent: { link: `tcp:127.0.0.1:${modem.ports.host}` },
      vmsConfig: { hostTransports: { 'hv-01': 'sol' } },
    });
    await stack.start();
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await sim?.stop();
    await modem?.close();
  });

  async function issue(as: string, domain: string, action: string): Promise<Cmd> {
    const r = await stack.api<Cmd>('POST', `/v1/hosts/hv-01/domains/${domain}/actions`, as, { action });
    expect(r.status).toBe(202);
    return r.json;
  }

  const done = (id: string, timeoutMs = 60_000) => stack.waitCommand<Cmd>(id, (c) => FINAL.has(c.state), timeoutMs);

  it('the link comes up over SOL and the host status report arrives', async () => {
    let hosts: { link: { state: string }; status: unknown }[] = [];
    for (let i = 0; i < 300; i++) {
      hosts = (await stack.api<{ hosts: typeof hosts }>('GET', '/v1/hosts', 'alice')).json.hosts;
      if (hosts[0]?.link.state === 'up' && hosts[0].status) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(hosts[0]?.link.state).toBe('up');
    expect(hosts[0]?.status).not.toBeNull();
    expect(stack.vms.output).not.toMatch(/"transport":"oem"/);
    expect(modem.carried.toBmc).toBeGreaterThan(0);
  });

  it('actions are applied exactly once each', async () => {
    const ids: string[] = [];
    for (const [domain, action] of [['web-2', 'start'], ['web-1', 'destroy'], ['web-2', 'reboot']] as const) {
      const c = await done((await issue('alice', domain, action)).id);
      expect(c.state, `${action} ${domain}`).toBe('applied');
      ids.push(c.id);
    }
    for (const id of ids) expect(stack.appliedCount(id)).toBe(1);
  });

  it('a denied command comes back denied with its signed alert', async () => {
    const c = await done((await issue('mallory', 'web-1', 'start')).id);
    expect(c).toMatchObject({ state: 'denied', result: { errorCode: 'ERR_UNKNOWN_PRINCIPAL' } });
    let alerts: { kind: string; signatureStatus: string }[] = [];
    for (let i = 0; i < 100 && alerts.length === 0; i++) {
      alerts = (await stack.api<{ alerts: typeof alerts }>('GET', '/v1/alerts?principal=mallory', 'alice')).json.alerts;
      if (alerts.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(alerts).toEqual([expect.objectContaining({ kind: 'unknown_principal', signatureStatus: 'verified' })]);
  });

  it('garbage on the serial line both ways (a getty, kernel messages, random bytes): nothing lost, nothing twice', async () => {
    let n = 0;
    const noise = () => Buffer.from(n++ % 2 ? '\r\nUbuntu 24.04 LTS hv-01 ttyS1\r\n\r\nhv-01 login: ' : '[   42.123456] serial8250: too much work for irq4\r\n\x00\x13\x11\xff\x00garbage');
    // Noise at arbitrary moments in both directions, as a getty or the kernel would write it: between frames or inside one.
    const timer = setInterval(() => modem.inject(n % 2 ? 'bmc' : 'host', noise()), 250);
    try {
      const ids: string[] = [];
      for (const [domain, action] of [['web-1', 'start'], ['web-1', 'destroy'], ['web-1', 'start'], ['web-1', 'destroy'], ['web-1', 'start'], ['web-1', 'destroy']] as const) {
        const c = await done((await issue('alice', domain, action)).id);
        expect(c.state).toBe('applied');
        ids.push(c.id);
      }
      for (const id of ids) expect(stack.appliedCount(id)).toBe(1);
    } finally {
      clearInterval(timer);
    }
    expect(modem.carried.injected).toBeGreaterThan(0);
  }, 180_000);

  it('the BMC drops the SOL session mid-message (sol deactivate by an administrator): the link reconnects, nothing lost or twice', async () => {
    const first = await issue('alice', 'web-1', 'start');
    // Deactivate while the request and its challenge are crossing the line.
    await new Promise((r) => setTimeout(r, 150));
    const d = spawnSync('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(sim.port), '-U', 'admin', '-f', sim.adminPasswordFile, '-C', '3', '-L', 'ADMINISTRATOR', 'sol', 'deactivate'], { encoding: 'utf8', timeout: 20_000 });
    expect(d.status, d.stderr + d.stdout).toBe(0);
    const second = await issue('alice', 'web-2', 'destroy');
    for (const c of [first, second]) {
      const f = await done(c.id, 90_000);
      expect(f.state).toBe('applied');
      expect(stack.appliedCount(c.id)).toBe(1);
    }
  }, 180_000);

  it('hypervisor-agent restart mid-command: nothing lost or twice', async () => {
    const c1 = await issue('alice', 'web-2', 'start');
    await new Promise((r) => setTimeout(r, 300));
    await stack.agent.stop();
    const c2 = await issue('alice', 'web-1', 'destroy');
    await stack.startAgent();
    for (const c of [c1, c2]) {
      const f = await done(c.id, 90_000);
      expect(f.state).toBe('applied');
      expect(stack.appliedCount(c.id)).toBe(1);
    }
  }, 180_000);
});
