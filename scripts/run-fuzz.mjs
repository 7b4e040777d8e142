#!/usr/bin/env node
// `npm run fuzz [-- --scale N]`: the fuzz suites of test/test/fuzz with every
// iteration count multiplied by N (default 50). A failing input is saved under
// test/fuzz-regressions/ and replayed by every later run, `npm test` included.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { scale: { type: 'string', default: '50' } } });
const scale = Number(values.scale);
if (!Number.isInteger(scale) || scale < 1) {
  console.error(`--scale must be a positive integer, got ${values.scale}`);
  process.exit(2);
}
console.log(`fuzzing with BACKCHANNEL_FUZZ_SCALE=${scale}`);
const result = spawnSync('npx', ['--no-install', 'vitest', 'run', 'test/fuzz', '--testTimeout', String(60_000 * scale)], {
  cwd: new URL('../test', import.meta.url).pathname,
  stdio: 'inherit',
  env: { ...process.env, BACKCHANNEL_FUZZ_SCALE: String(scale) },
});
process.exit(result.status ?? 1);
