/**
 * Each VM action on a real libvirtd with a QEMU (TCG) guest, through the whole
 * stack (vms-agent API ?wait → RMCP+ → bmc-oem → hypervisor-agent → libvirtd →
 * back; default tuning, custodial principal) against the anchor `virsh`
 * doing the same action directly (one virsh process per action, as an
 * operator would), alternating, same run, same guests.
 *
 * Guests: bc-bench (powers off on ACPI) and bc-spare (ignores ACPI), from the
 * real-libvirt test harness (PrivateLibvirtd, guests.ts). A shutdown and a
 * reboot need the guest's power-button handler in place, so before each the
 * guest is booted and waited for; that wait is not measured.
 *
 * Skipped (no metrics) where there is no libvirtd/QEMU or not root.
 */
import { JsonHttpClient } from '../harness/json-http-client.js';
import { bootGuests, readyCount, waitReady } from '../real-libvirt/guests.js';
import { PrivateLibvirtd, realLibvirtAvailable } from '../real-libvirt/private-libvirtd.js';
import { VmsAgentStack } from '../vms-agent-e2e/stack.js';
import { runCommand, useDefaults } from './e2e-latency-bench.js';
import { type Benchmark, type Metric, metric, percentile } from './metric.js';

const GUEST = 'bc-bench';

interface Pair {
  stack: number[];
  virsh: number[];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);

export const realLibvirtBench: Benchmark = {
  name: 'real-libvirt',
  description: 'each VM action on a real libvirtd/QEMU guest through the whole stack vs virsh doing it directly',
  async run({ quick }) {
    const available = realLibvirtAvailable();
    if (!available.ok) {
      console.log(`  skipped: ${available.why}`);
      return [];
    }
    const n = quick ? 2 : 5;
    const daemon = new PrivateLibvirtd();
    let stack: VmsAgentStack | undefined;
    let client: JsonHttpClient | undefined;
    try {
      await daemon.start();
      stack = new VmsAgentStack({ agentConfig: { libvirtUri: daemon.uri } });
      await Promise.all([bootGuests(daemon, [{ name: GUEST, acpi: 'poweroff' }]), stack.start()]);
      await useDefaults(stack);
      client = new JsonHttpClient(stack.url, stack.tokens.alice!);
      const c = client;
      const viaStack = async (action: string): Promise<number> => (await runCommand(c, GUEST, action)).ms;
      const viaVirsh = (action: string): Promise<number> => timed(() => daemon.mustVirsh([action, GUEST]));
      const boots = { n: 1 };
      const bootAndWait = async (): Promise<void> => {
        await daemon.mustVirsh(['start', GUEST]);
        boots.n += 1;
        await waitReady(daemon, GUEST, boots.n);
      };
      await waitReady(daemon, GUEST, 1);

      const results: Record<string, Pair> = {};
      const add = (action: string, way: keyof Pair, ms: number): void => {
        results[action] ??= { stack: [], virsh: [] };
        results[action][way].push(ms);
      };
      for (let i = 0; i < n; i++) {
        // Pairs that leave the guest as they found it; stack and virsh alternate which goes first.
        for (const way of (i % 2 === 0 ? ['stack', 'virsh'] : ['virsh', 'stack']) as (keyof Pair)[]) {
          const act = way === 'stack' ? viaStack : viaVirsh;
          add('suspend', way, await act('suspend'));
          add('resume', way, await act('resume'));
          add('reset', way, await act('reset'));
          add('destroy', way, await act('destroy'));
          add('start', way, await act('start'));
        }
      }
      for (let i = 0; i < Math.max(1, n - 2); i++) {
        for (const way of (i % 2 === 0 ? ['stack', 'virsh'] : ['virsh', 'stack']) as (keyof Pair)[]) {
          const act = way === 'stack' ? viaStack : viaVirsh;
          // The guest is running; wait until it can hear the power button.
          boots.n = Math.max(boots.n, readyCount(daemon, GUEST));
          await waitReady(daemon, GUEST, boots.n);
          // reboot answers once libvirt has passed the request on; the guest then reboots in place.
          add('reboot', way, await act('reboot'));
          boots.n += 1;
          await waitReady(daemon, GUEST, boots.n);
          if (way === 'stack') {
            add('shutdown', way, await viaStack('shutdown'));
          } else {
            // virsh shutdown returns at once; the anchor is virsh's request plus waiting for "shut off", as the agent does.
            add('shutdown', way, await timed(async () => {
              await daemon.mustVirsh(['shutdown', GUEST]);
              while ((await daemon.mustVirsh(['domstate', GUEST])).split('\n')[0] !== 'shut off') await new Promise((r) => setTimeout(r, 50));
            }));
          }
          await bootAndWait();
        }
      }
      const metrics: Metric[] = [];
      for (const [action, pair] of Object.entries(results)) {
        metrics.push(
          metric(`real-libvirt ${action} p50 through the stack`, median(pair.stack), 'ms', `virsh ${action} p50 (direct)`, median(pair.virsh), `n=${pair.stack.length}; QEMU TCG guest, 128 MiB; stack with default tuning`),
        );
      }
      return metrics;
    } finally {
      client?.close();
      await stack?.stop().catch(() => undefined);
      await daemon.stop();
    }
  },
};
