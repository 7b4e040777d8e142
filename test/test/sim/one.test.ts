import { it } from 'vitest';
import { runLinkSim } from '../../src/sim/link-sim.js';
it('one', () => {
  const extra = JSON.parse(process.env.OPTS ?? '{}');
  const r = runLinkSim(Number(process.env.SEED), { commands: Number(process.env.CMDS ?? 300), ...extra, ...(process.env.ATTACK ? { attack: 'foreign-put' as const } : {}), trace: (l) => console.log(l) });
  console.log(JSON.stringify({ ...r, counters: undefined }));
});
