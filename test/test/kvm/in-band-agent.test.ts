// Issue "real in-band path", the full paper path on a real kernel driver:
// vms-agent (host) ──RMCP+──▶ bmc-oem (host) ──VM protocol──▶ QEMU KCS ──▶
// Linux ipmi_si ──▶ /dev/ipmi0 ──▶ hypervisor-agent (in the guest, ipmi:// transport,
// libvirt test driver) and back: a command issued at vms-agent's API is applied
// in the guest and its result comes back to the API.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAllManaged } from '../../src/harness/managed-process.js';
import { pollUntil } from '../../src/harness/poll-until.js';
import { qemuAvailable, runGuest } from '../../src/kvm/guest.js';
import { HYPERVISOR_AGENT_MAIN, VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

interface CommandView {
  state: string;
  result: { outcome: string; previousState: string; newState: string } | null;
}

const stack = new VmsAgentStack({ agent: { link: 'ipmi:///dev/ipmi0', stateDir: '/run/hv-agent-state', start: false } });
afterAll(async () => {
  writeFileSync(join(stack.agentDir, 'stop'), '');
  await stopAllManaged();
  await stack.stop();
});

// The guest's agent runs until the host test drops /mnt/stop (or 200 s pass).
const guestScript = (agentMain: string) => `
node ${agentMain} --config /mnt/agent.json > /mnt/agent.log 2>&1 &
pid=$!
i=0
while [ ! -e /mnt/stop ] && [ $i -lt 2000 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i+1)); done
kill $pid 2>/dev/null
wait $pid
echo "agent exit $?" >> /mnt/agent.log
`;

describe.skipIf(!qemuAvailable())('in-band: hypervisor-agent on the guest kernel\'s /dev/ipmi0 (skipped only when qemu-system-x86_64 is not installed)', () => {
  it('a command put into bmc-oem by vms-agent over RMCP+ is applied in the guest and its result reaches the API', { timeout: 280_000 }, async () => {
    const started = Date.now();
    await stack.start();
    const guest = runGuest({ bmcPort: stack.vmPort, workDir: stack.agentDir, timeoutMs: 240_000, script: guestScript(HYPERVISOR_AGENT_MAIN) });
    const agentLog = () => (existsSync(join(stack.agentDir, 'agent.log')) ? readFileSync(join(stack.agentDir, 'agent.log'), 'utf8') : '');
    try {
      // The first status report from the guest proves the whole return path.
      const domains = await pollUntil('the first status report from the guest', 150_000, async () => {
        const { status, json } = await stack.api<{ domains: Array<{ name: string; state: string }> }>('GET', '/v1/hosts/hv-01/domains', 'alice');
        return status === 200 ? json.domains : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}\nagent log:\n${agentLog()}`);
      });
      expect(domains.find((d) => d.name === 'web-1')?.state).toBe('running');

      const { status, json } = await stack.api<{ id: string }>('POST', '/v1/hosts/hv-01/domains/web-1/actions', 'alice', { action: 'shutdown' });
      expect(status).toBe(202);
      const done = await stack.waitCommand<CommandView>(json.id, (c) => ['applied', 'denied', 'failed', 'expired'].includes(c.state), 90_000);
      expect(done.state, agentLog()).toBe('applied');
      expect(done.result).toMatchObject({ outcome: 'applied', previousState: 'running', newState: 'shutoff' });
      expect(agentLog()).toContain('ipmi:///dev/ipmi0');
      expect(agentLog()).toContain('applying action');
    } finally {
      writeFileSync(join(stack.agentDir, 'stop'), '');
    }
    const run = await guest;
    expect(run.timedOut, run.console).toBe(false);
    expect(run.console).toContain('/dev/ipmi0 present');
    expect(agentLog()).toMatch(/agent exit (0|143)/);
    // The bound for the whole test: 5 minutes on this machine.
    expect(Date.now() - started).toBeLessThan(300_000);
  });
});
