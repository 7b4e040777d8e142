/**
 * Issue 7 "Fault injection": at least 500 commands (5,000 with
 * BACKCHANNEL_FAULTS_LONG=1, i.e. `npm run test:faults -- --long`) through
 * the REST API while a seeded UDP proxy drops, duplicates, reorders and
 * delays RMCP+ datagrams between vms-agent and bmc-oem, a TCP proxy cuts the
 * hypervisor-agent's VM-protocol link, and each of the three processes is
 * killed with SIGKILL and restarted. Afterwards: every command final, none
 * lost, none applied twice, every result matching its request, libvirt's
 * state the one the applied sequence implies (src/faults/invariants.ts).
 * The seed is printed; BACKCHANNEL_FAULTS_SEED=N replays a run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { stopAllManaged } from '../../src/harness/managed-process.js';
import { profileFromEnv } from '../../src/faults/fault-profile.js';
import { formatSummary, runFaults } from '../../src/faults/fault-run.js';

const profile = profileFromEnv();

afterAll(async () => {
  await stopAllManaged();
});

describe(`fault injection (${profile.name}: ${profile.commands} commands, seed ${profile.seed})`, () => {
  it(
    'every command reaches a final state, none is lost, none is applied twice, every result matches its request',
    async () => {
      console.log(`fault injection seed ${profile.seed} (replay with BACKCHANNEL_FAULTS_SEED=${profile.seed})`);
      const summary = await runFaults(profile, (line) => console.log(line));
      console.log(formatSummary(summary));
      expect(summary.verdict.violations, formatSummary(summary)).toEqual([]);
      expect(summary.commands).toBeGreaterThanOrEqual(profile.commands);
      // The faults really happened.
      expect(summary.udp.dropped).toBeGreaterThan(0);
      expect(summary.udp.duplicated).toBeGreaterThan(0);
      expect(summary.udp.reordered).toBeGreaterThan(0);
      expect(summary.tcp.cuts).toBeGreaterThan(0);
      expect(summary.kills).toEqual({ 'bmc-oem': profile.killsPerProcess, 'hypervisor-agent': profile.killsPerProcess, 'vms-agent': profile.killsPerProcess });
    },
    profile.name === 'long' ? 4 * 3600_000 : 420_000,
  );
});
