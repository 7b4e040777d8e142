#!/usr/bin/env node
/**
 * Child process of the fleet benchmark: `node fleet-sim-main.js OPTIONS.json`
 * starts a FleetSim, prints one JSON line {"ready": hosts}, then answers
 * stdin lines: "stats" → {"stats": {hostId: reportSeq}, "loop": {p50Ms, p99Ms}}
 * (event-loop delay since the last stats), "stop" (or stdin
 * closing, e.g. the parent died) → stops every host and exits.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { FleetSim, type FleetSimOptions } from './fleet-sim.js';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: fleet-sim-main OPTIONS.json');
  const options = JSON.parse(readFileSync(file, 'utf8')) as FleetSimOptions;
  const sim = await FleetSim.start(options);
  // How late this process's event loop runs: if the simulator is the bottleneck, it shows here.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  process.stdout.write(`${JSON.stringify({ ready: sim.hosts })}\n`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await sim.stop();
    process.exit(0);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'stats') {
      const loop = { p50Ms: loopDelay.percentile(50) / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 };
      loopDelay.reset();
      process.stdout.write(`${JSON.stringify({ stats: sim.reportSeqs(), loop })}\n`);
    }
    else if (line.trim() === 'stop') void stop();
  });
  lines.on('close', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`fleet-sim: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
