/**
 * `npm run sim -- [link|channel] [--seeds N] [--from S] [--seed S] [--commands M] [--attack foreign-put|replay] [--harsh] [--restore] [--verbose] [--trace]`
 *
 * - `link` (default): the whole-link simulation (link-sim.ts): both link cores, bmc-oem's queue
 *   engine, lossy LAN, partitions, clocks, crashes, commands. Prints one line per seed with
 *   --verbose (always for a failing seed) and the totals.
 * - `channel`: the one-direction channel simulation (channel-sim.ts); --messages M.
 *
 * A failing seed is printed with its violations and schedule, and replays bit for bit with --seed.
 */
import { parseArgs } from 'node:util';
import { runChannelSim } from './channel-sim.js';
import { type LinkSimOptions, runLinkSim } from './link-sim.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1' },
    seed: { type: 'string' },
    commands: { type: 'string', default: '200' },
    messages: { type: 'string', default: '200' },
    attack: { type: 'string' },
    harsh: { type: 'boolean', default: false },
    restore: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const USAGE = `usage: npm run sim -- [link|channel] [--seeds N] [--from S] [--seed S] [--commands M] [--messages M] [--attack foreign-put|replay] [--harsh] [--restore] [--verbose] [--trace]
  link     (default) N seeded runs of the whole link: manager and host link cores, bmc-oem's queue engine,
           LAN loss/duplication/reordering/partitions, clock skew up to 10 min and 100 ppm drift, crashes of
           manager, host and BMC; M commands per seed. --attack foreign-put|replay: junk records on queue 1,
           or a copy of one of the manager's records;
           --harsh: 20% loss on every seed and up to 2 crashes of each party; --restore: a crashed manager
           restarts from a backup of its store taken up to 2 min before the crash.
  channel  N seeded runs of one channel direction (receiver crashes and downtime); M messages per seed.
  --seed S replays one run bit for bit (--trace prints every request, answer, retransmission and the attack);
  --from S starts the seed range at S.`;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got "${text}"`);
    process.exit(2);
  }
  return n;
};
const mode = positionals[0] ?? 'link';
const attack = values.attack as LinkSimOptions['attack'] | undefined;
if (attack !== undefined && attack !== 'foreign-put' && attack !== 'replay' && attack !== 'none') {
  console.error('--attack must be foreign-put or replay');
  process.exit(2);
}
if (mode !== 'link' && mode !== 'channel') {
  console.error(USAGE);
  process.exit(2);
}
const from = count('from', values.from);
const seeds = values.seed !== undefined ? [count('seed', values.seed)] : Array.from({ length: count('seeds', values.seeds) }, (_, i) => from + i);
const started = Date.now();
let failed = 0;
let total = 0;
const sums: Record<string, number> = {};
const add = (rec: Record<string, number>, prefix = '') => {
  for (const [k, v] of Object.entries(rec)) sums[prefix + k] = (sums[prefix + k] ?? 0) + v;
};

if (mode === 'channel') {
  const messages = count('messages', values.messages);
  for (const seed of seeds) {
    const r = runChannelSim(seed, { messages });
    total += r.messages;
    add(r.verdicts);
    if (r.violations.length > 0) {
      failed++;
      console.log(`seed ${seed} FAILED (skew ${r.skewMs} ms, drift ${r.driftPpm.toFixed(1)} ppm, ${r.crashes} crashes): ${r.violations.slice(0, 5).join('; ')}`);
    }
  }
  console.log(`${seeds.length} seeds, ${total} messages, ${failed} failed, ${((Date.now() - started) / 1000).toFixed(1)} s; verdicts ${JSON.stringify(sums)}`);
} else {
  const commands = count('commands', values.commands);
  const options: Partial<LinkSimOptions> = { commands, ...(values.trace ? { trace: (line: string) => console.log(line) } : {}), ...(attack ? { attack } : {}), ...(values.harsh ? { fixedLan: true, maxCrashes: { manager: 2, host: 2, bmc: 2 } } : {}), ...(values.restore ? { restoreManager: true } : {}) };
  let simulatedMs = 0;
  for (const seed of seeds) {
    const r = runLinkSim(seed, options);
    total += r.final;
    simulatedMs += r.simulatedMs;
    add(r.counters);
    add(r.alerts, 'alert.');
    const line = `seed ${seed}: ${r.final}/${r.commands} final, ${r.applied} applied, ${(r.simulatedMs / 60_000).toFixed(1)} min simulated, skew ${(r.skewMs / 1000).toFixed(1)} s, loss ${(r.lanLoss * 100).toFixed(1)}%, crashes m${r.crashes.manager} h${r.crashes.host} b${r.crashes.bmc}${r.bmcDurable ? ' (durable BMC)' : ''}, retransmissions ${(r.counters['manager.retransmissions'] ?? 0) + (r.counters['host.retransmissions'] ?? 0)}, alerts ${JSON.stringify(r.alerts)}`;
    if (r.violations.length > 0) {
      failed++;
      console.log(`${line}\n  FAILED: ${r.violations.slice(0, 5).join('\n          ')}\n  schedule ${JSON.stringify(r.schedule)}\n  replay: npm run sim -- link --seed ${seed} --commands ${commands}${attack ? ` --attack ${attack}` : ''}${values.harsh ? ' --harsh' : ''}${values.restore ? ' --restore' : ''}`);
    } else if (values.verbose || seeds.length === 1) console.log(line);
  }
  const s = (Date.now() - started) / 1000;
  console.log(`${seeds.length} seeds, ${total} commands final, ${failed} failed seeds, ${s.toFixed(1)} s (${((s * 1000) / Math.max(1, total)).toFixed(2)} ms a command), ${(simulatedMs / 3_600_000).toFixed(1)} h simulated`);
  console.log(`totals ${JSON.stringify(sums)}`);
}
process.exit(failed > 0 ? 1 : 0);
