#!/usr/bin/env node
// `npm run test:faults [-- --long] [-- --seed N] [-- --commands N]`: the
// fault-injection suites of test/test/faults against the built daemons.
// --long runs 5,000 commands and 20 kills of each process instead of 500 and 3
// (BACKCHANNEL_FAULTS_LONG=1); --seed replays a run (BACKCHANNEL_FAULTS_SEED).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { long: { type: 'boolean', default: false }, seed: { type: 'string' }, commands: { type: 'string' } } });
const env = { ...process.env };
if (values.long) env.BACKCHANNEL_FAULTS_LONG = '1';
for (const [flag, name] of [['seed', 'BACKCHANNEL_FAULTS_SEED'], ['commands', 'BACKCHANNEL_FAULTS_COMMANDS']]) {
  const v = values[flag];
  if (v === undefined) continue;
  if (!/^[1-9][0-9]*$/.test(v)) {
    console.error(`--${flag} must be a positive integer, got ${v}`);
    process.exit(2);
  }
  env[name] = v;
}
console.log(`fault injection: ${values.long ? 'long (5,000 commands)' : 'CI size (500 commands)'}${values.seed ? `, seed ${values.seed}` : ''}`);
const result = spawnSync('npx', ['--no-install', 'vitest', 'run', 'test/faults'], {
  cwd: new URL('../test', import.meta.url).pathname,
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
