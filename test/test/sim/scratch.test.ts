import { it } from 'vitest';
import { runLinkSim } from '../../src/sim/link-sim.js';

it('scratch', () => {
  const t = Date.now(); const c0 = process.cpuUsage();
  const from = Number(process.env.FROM ?? 1), n = Number(process.env.N ?? 100), cmds = Number(process.env.CMDS ?? 200);
  const opts = JSON.parse(process.env.OPTS ?? '{}');
  let total = 0, failed = 0, sim = 0; const agg: Record<string, number> = {};
  for (let seed = from; seed < from + n; seed++) {
    const r = runLinkSim(seed, { commands: cmds, ...opts, ...(process.env.ATTACK ? { attack: 'foreign-put' as const } : {}) });
    total += r.final; sim += r.simulatedMs;
    for (const [k, v] of Object.entries(r.counters)) agg[k] = (agg[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.crashes)) agg['crash_' + k] = (agg['crash_' + k] ?? 0) + v;
    if (r.violations.length) { failed++; console.log(`seed ${seed} FAILED sim ${r.simulatedMs} crashes ${JSON.stringify(r.crashes)} durable ${r.bmcDurable}: ${r.violations.slice(0, 3).join(' ;; ')}`); }
  }
  console.log(`${n} seeds ${total} final, ${failed} failed, ${Date.now() - t} ms wall, ${Math.round(process.cpuUsage(c0).user / 1000)} ms cpu, sim ${Math.round(sim / 60000)} min`, JSON.stringify(agg));
}, 600_000);
