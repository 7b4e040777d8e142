#!/usr/bin/env node
/**
 * Child process of the replica suite: `node replica-fleet-main.js OPTIONS.json`
 * starts a ReplicaFleet, prints {"ready": hosts}, then answers stdin lines:
 * "counts" → {"counts": FleetCounts}; "stop" (or stdin closing: the parent
 * died) → stops every host and exits.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ReplicaFleet, type ReplicaFleetOptions } from './replica-fleet.js';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: replica-fleet-main OPTIONS.json');
  const fleet = await ReplicaFleet.start(JSON.parse(readFileSync(file, 'utf8')) as ReplicaFleetOptions);
  process.stdout.write(`${JSON.stringify({ ready: fleet.hosts })}\n`);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await fleet.stop();
    process.exit(0);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'counts') process.stdout.write(`${JSON.stringify({ counts: fleet.counts() })}\n`);
    else if (line.trim() === 'stop') void stop();
  });
  lines.on('close', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`replica-fleet: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
