/**
 * Issue 12 acceptance on a real libvirtd with QEMU (TCG) guests, through the
 * whole stack: vms-agent API → bmc-oem → hypervisor-agent → libvirtd, every
 * result checked against `virsh domstate` / `virsh domid`.
 *
 * Guests (booted once, reused): bc-acpi powers off on the ACPI power button,
 * bc-stubborn ignores it, bc-transient (virsh create) powers off on it and is
 * then gone. A private session libvirtd + virtlogd (PrivateLibvirtd) keeps
 * the machine's own libvirt out of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertCount, apiDomain, issue, reportSeq, run, waitApiState, waitFinal } from '../../src/real-libvirt/api-driver.js';
import { bootGuests, domid, domstate, readyCount, waitReady } from '../../src/real-libvirt/guests.js';
import { PrivateLibvirtd, realLibvirtAvailable } from '../../src/real-libvirt/private-libvirtd.js';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

const available = realLibvirtAvailable();
const REPORT_INTERVAL_S = 2;
let daemon: PrivateLibvirtd;
let stack: VmsAgentStack;
let alertsBefore = 0;

async function ready(name: string, count: number): Promise<void> {
  await waitReady(daemon, name, count);
}

describe.skipIf(!available.ok)('hypervisor-agent on a real libvirtd (QEMU TCG guests)', () => {
  beforeAll(async () => {
    daemon = new PrivateLibvirtd();
    await daemon.start();
    stack = new VmsAgentStack({
      // statePollSeconds stays at its default: changes arrive as libvirt events, not by polling.
      agentConfig: { libvirtUri: daemon.uri, reportIntervalSeconds: REPORT_INTERVAL_S, statePollSeconds: 5, shutdownTimeoutSeconds: 120 },
    });
    // The guests boot while the stack is set up.
    await Promise.all([
      bootGuests(daemon, [
        { name: 'bc-acpi', acpi: 'poweroff' },
        { name: 'bc-stubborn', acpi: 'ignore' },
        { name: 'bc-transient', acpi: 'poweroff', transient: true },
      ]),
      stack.start(),
    ]);
    alertsBefore = (await alertCount(stack)).count;
    await Promise.all(['bc-acpi', 'bc-stubborn', 'bc-transient'].map((n) => ready(n, 1)));
  }, 180_000);

  afterAll(async () => {
    await stack?.stop().catch(() => undefined);
    await daemon?.stop();
  }, 60_000);

  it('reports the three guests running with the ids virsh shows', async () => {
    await waitApiState(stack, 'bc-transient', 'running');
    for (const name of ['bc-acpi', 'bc-stubborn', 'bc-transient']) {
      expect(await domstate(daemon, name)).toBe('running');
      expect((await apiDomain(stack, name))?.id).toBe(await domid(daemon, name));
    }
  });

  it('suspend and resume give the states virsh shows', async () => {
    const s = await run(stack, 'bc-acpi', 'suspend');
    expect(s.result).toMatchObject({ outcome: 'applied', previousState: 'running', newState: 'paused', domainName: 'bc-acpi' });
    expect(await domstate(daemon, 'bc-acpi')).toBe('paused');
    const r = await run(stack, 'bc-acpi', 'resume');
    expect(r.result).toMatchObject({ outcome: 'applied', newState: 'running' });
    expect(await domstate(daemon, 'bc-acpi')).toBe('running');
  });

  it('reboot and reset are in place (same domain id), on a persistent and a transient guest', async () => {
    const names = ['bc-acpi', 'bc-transient'] as const;
    const ids = { 'bc-acpi': await domid(daemon, 'bc-acpi'), 'bc-transient': await domid(daemon, 'bc-transient') };
    const boots = { 'bc-acpi': readyCount(daemon, 'bc-acpi'), 'bc-transient': readyCount(daemon, 'bc-transient') };
    for (const action of ['reboot', 'reset']) {
      // Both guests at once: different domains run concurrently at the agent.
      const results = await Promise.all(names.map((n) => run(stack, n, action)));
      for (const [i, name] of names.entries()) {
        expect(results[i]!.result, `${action} ${name}`).toMatchObject({ outcome: 'applied', newState: 'running' });
        expect(await domid(daemon, name)).toBe(ids[name]);
        expect(await domstate(daemon, name)).toBe('running');
        boots[name] += 1;
      }
      // reboot: the guest powered off on ACPI and libvirt restarted it in place; it boots again.
      // (reset's boot is waited for later, by whatever needs the guest's power-button handler.)
      if (action === 'reboot') await Promise.all(names.map((n) => ready(n, boots[n])));
      for (const name of names) expect(await domid(daemon, name)).toBe(ids[name]);
    }
  }, 120_000);

  it("while bc-stubborn's shutdown waits, a destroy of another domain reaches libvirt within 2 s and reports stay on schedule", async () => {
    const seqBefore = await reportSeq(stack);
    const shutdown = await issue(stack, 'bc-stubborn', 'shutdown', { timeout_s: '60', force_after_s: '10' });
    // The shutdown is under way once its trail shows it still running at the agent.
    let waiting = shutdown;
    for (let i = 0; i < 200 && !waiting.events.some((e) => /still running/.test(e.detail)); i++) {
      await new Promise((r) => setTimeout(r, 100));
      waiting = await stack.waitCommand(shutdown.id, () => true);
    }
    expect(waiting.state).not.toMatch(/applied|failed/);
    expect(waiting.events.some((e) => /still running/.test(e.detail))).toBe(true);
    const destroy = await issue(stack, 'bc-acpi', 'destroy');
    const destroyed = await waitFinal(stack, destroy.id, 30_000);
    expect(destroyed.result).toMatchObject({ outcome: 'applied', newState: 'shutoff' });
    expect(await domstate(daemon, 'bc-acpi')).toBe('shut off');
    // Issue 12's bound (2 s), on what the stack decides: issued at the API → handed to libvirt at
    // the agent, the challenge round trip included (both clocks are this machine's). libvirt's own
    // destroy of a TCG QEMU (SIGTERM, polled every 200 ms, then its cleanup) takes 1.5-2.2 s here
    // whoever calls it (virsh too, measured below); it is logged, not bounded.
    const appliedAfterMs = destroyed.result!.completedAtMs - destroy.createdAtMs;
    const handedOverAfterMs = appliedAfterMs - destroyed.result!.durationMs;
    console.log(`destroy of bc-acpi while bc-stubborn's shutdown waited: handed to libvirt ${handedOverAfterMs} ms after it was issued, done ${appliedAfterMs} ms after (libvirt's part ${destroyed.result!.durationMs} ms)`);
    expect(handedOverAfterMs).toBeLessThan(2000);
    const stopped = await waitFinal(stack, shutdown.id);
    // The destroy finished while the shutdown still waited.
    expect(destroyed.result!.completedAtMs).toBeLessThan(stopped.result!.completedAtMs);
    expect(stopped.result).toMatchObject({ outcome: 'applied', newState: 'shutoff', stopMethod: 'forced' });
    expect(stopped.result!.detail).toMatch(/force_after_s/);
    expect(await domstate(daemon, 'bc-stubborn')).toBe('shut off');
    // Status reports kept coming while the guest took its time (one every 2 s; at least 10 s passed).
    expect((await reportSeq(stack)) - seqBefore).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('start; a guest that ignores ACPI fails shutdown at its timeout_s, still running; destroy then stops it', async () => {
    const boots = readyCount(daemon, 'bc-acpi');
    const names = ['bc-acpi', 'bc-stubborn'];
    const started = await Promise.all(names.map((name) => run(stack, name, 'start')));
    for (const [i, name] of names.entries()) {
      expect(started[i]!.result).toMatchObject({ outcome: 'applied', previousState: 'shutoff', newState: 'running' });
      expect(await domstate(daemon, name)).toBe('running');
      await waitApiState(stack, name, 'running');
      expect((await apiDomain(stack, name))?.id).toBe(await domid(daemon, name));
    }
    // No wait for bc-stubborn to boot: it has no power-button handler either way.
    const timedOut = await run(stack, 'bc-stubborn', 'shutdown', { timeout_s: '3' });
    expect(timedOut.result).toMatchObject({ outcome: 'failed', errorCode: 'ERR_SHUTDOWN_TIMEOUT', newState: 'running' });
    expect(await domstate(daemon, 'bc-stubborn')).toBe('running');
    const d = await run(stack, 'bc-stubborn', 'destroy');
    expect(d.result).toMatchObject({ outcome: 'applied', newState: 'shutoff' });
    expect(await domstate(daemon, 'bc-stubborn')).toBe('shut off');
    await ready('bc-acpi', boots + 1);
  }, 90_000);

  it('shutdown: a guest that powers off on ACPI ends shut off; a transient one ends gone, and both are successes', async () => {
    // bc-transient booted three times: at the start, after its reboot, after its reset (the proof the reset happened).
    await ready('bc-transient', 3);
    const [persistent, transient] = await Promise.all([run(stack, 'bc-acpi', 'shutdown'), run(stack, 'bc-transient', 'shutdown')]);
    expect(persistent.result).toMatchObject({ outcome: 'applied', newState: 'shutoff', stopMethod: 'guest_powered_off' });
    expect(await domstate(daemon, 'bc-acpi')).toBe('shut off');
    expect(transient.result).toMatchObject({ outcome: 'applied', newState: 'shutoff', stopMethod: 'domain_gone' });
    expect(await domstate(daemon, 'bc-transient')).toBe('gone');
    await waitApiState(stack, 'bc-transient', 'absent');
  }, 60_000);

  it('a virsh destroy by hand shows at the API within 1 s (median of 5)', async () => {
    // From the moment the change is made (virsh destroy returns once libvirt has stopped the
    // guest; QEMU under TCG takes its time to exit, which is not the agent's) to the API showing it.
    const delays: number[] = [];
    const destroyTook: number[] = [];
    for (let i = 0; i < 5; i++) {
      await daemon.mustVirsh(['start', 'bc-stubborn']);
      await waitApiState(stack, 'bc-stubborn', 'running');
      const issued = Date.now();
      await daemon.mustVirsh(['destroy', 'bc-stubborn']);
      const done = Date.now();
      destroyTook.push(done - issued);
      delays.push((await waitApiState(stack, 'bc-stubborn', 'shutoff')) - done);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[2]!;
    console.log(`virsh destroy took ${destroyTook.join(', ')} ms; then at the API after ${delays.join(', ')} ms (median ${median(delays)})`);
    expect(median(delays)).toBeLessThan(1000);
  }, 120_000);

  it('libvirtd restarting under the agent: it reconnects and the next command is applied', async () => {
    await daemon.restartLibvirtd();
    const s = await run(stack, 'bc-stubborn', 'start');
    expect(s.result).toMatchObject({ outcome: 'applied', newState: 'running' });
    expect(await domstate(daemon, 'bc-stubborn')).toBe('running');
    await waitApiState(stack, 'bc-stubborn', 'running');
  }, 60_000);

  it('raised no alert of any kind in the whole suite', async () => {
    const after = await alertCount(stack);
    expect(after.kinds).toEqual([]);
    expect(after.count).toBe(alertsBefore);
  });
});
