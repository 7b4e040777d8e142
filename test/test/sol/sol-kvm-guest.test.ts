// SOL on a real kernel: QEMU's second serial port (the guest's ttyS1) is the
// host serial line that bmc-oem's SOL server bridges; the hypervisor-agent in
// the guest runs on `serial:/dev/ttyS1@115200` through the kernel's 8250
// driver; vms-agent on the host reaches it over SOL. One command end to end.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAllManaged } from '../../src/harness/managed-process.js';
import { pollUntil } from '../../src/harness/poll-until.js';
import { freeTcpPort } from '../../src/harness/ports.js';
import { qemuAvailable, runGuest } from '../../src/kvm/guest.js';
import { HYPERVISOR_AGENT_MAIN, VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface CommandView {
  state: string;
  result: { outcome: string; previousState: string; newState: string } | null;
}

let stack: VmsAgentStack | undefined;
afterAll(async () => {
  if (stack) writeFileSync(join(stack.agentDir, 'stop'), '');
  await stopAllManaged();
  await stack?.stop();
});

const guestScript = (agentMain: string) => `
ls -l /dev/ttyS1 >> /mnt/agent.log 2>&1
node ${agentMain} --config /mnt/agent.json >> /mnt/agent.log 2>&1 &
pid=$!
i=0
while [ ! -e /mnt/stop ] && [ $i -lt 2000 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i+1)); done
kill $pid 2>/dev/null
wait $pid
echo "agent exit $?" >> /mnt/agent.log
`;

describe.skipIf(!qemuAvailable())('SOL into a guest: bmc-oem SOL ⇄ QEMU ttyS1 ⇄ hypervisor-agent on /dev/ttyS1 (skipped only without qemu-system-x86_64)', () => {
  it('a command issued at vms-agent crosses SOL and the guest kernel\'s UART, is applied, and its result comes back', { timeout: 290_000 }, async () => {
    const serialPort = await freeTcpPort();
    stack = new VmsAgentStack({
      // bmc-oem connects to QEMU's ttyS1 (QEMU listens; bmc-oem retries every second until it does).
      bmcArgs: ['--sol-device', `tcp:127.0.0.1:${serialPort}`],
      agent: { link: 'serial:/dev/ttyS1@115200', stateDir: '/run/hv-agent-state', start: false },
      vmsConfig: { hostTransports: { 'hv-01': 'sol' } },
    });
    await stack.start();
    const s = stack;
    const guest = runGuest({
      bmcPort: s.vmPort,
      workDir: s.agentDir,
      timeoutMs: 240_000,
      script: guestScript(HYPERVISOR_AGENT_MAIN),
      extraArgs: ['-serial', `tcp:127.0.0.1:${serialPort},server=on,wait=off`],
    });
    const agentLog = () => (existsSync(join(s.agentDir, 'agent.log')) ? readFileSync(join(s.agentDir, 'agent.log'), 'utf8') : '');
    try {
      const domains = await pollUntil('the first status report from the guest over SOL', 180_000, async () => {
        const { status, json } = await s.api<{ domains: Array<{ name: string; state: string }> }>('GET', '/v1/hosts/hv-01/domains', 'alice');
        return status === 200 ? json.domains : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\nagent log:\n${agentLog()}\nbmc-oem:\n${s.bmc.output.slice(-2000)}`);
      });
      expect(domains.find((d) => d.name === 'web-1')?.state).toBe('running');
      const { status, json } = await s.api<{ id: string }>('POST', '/v1/hosts/hv-01/domains/web-1/actions', 'alice', { action: 'shutdown' });
      expect(status).toBe(202);
      const done = await s.waitCommand<CommandView>(json.id, (c) => ['applied', 'denied', 'failed', 'expired'].includes(c.state), 90_000);
      expect(done.state, agentLog()).toBe('applied');
      expect(done.result).toMatchObject({ outcome: 'applied', previousState: 'running', newState: 'shutoff' });
      expect(agentLog()).toContain('serial:/dev/ttyS1@115200');
      expect(s.bmc.output).toMatch(/SOL activated/);
    } finally {
      writeFileSync(join(s.agentDir, 'stop'), '');
    }
    const run = await guest;
    expect(run.timedOut, run.console).toBe(false);
  });
});
