#!/usr/bin/env node
// `npm test`: generate + build, then typecheck, lint and every package's
// test suite through turbo, then add up the per-package vitest JSON reports
// into one closing line: "N passed, N failed, N skipped".
// Exits non-zero if any step or any test fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

function turbo(args) {
  const result = spawnSync('npx', ['--no-install', 'turbo', 'run', ...args], { cwd: root, stdio: 'inherit', env });
  return result.status ?? 1;
}

for (const ws of workspaces) rmSync(join(root, ws, '.test-results'), { recursive: true, force: true });

const steps = [
  ['build', ['build', '--output-logs=errors-only']],
  ['typecheck + lint', ['typecheck', 'lint', '--output-logs=errors-only']],
  ['tests', ['test', '--concurrency=1', '--continue']],
];
// A failed build stops here (nothing to test); a typecheck or lint failure
// is reported but the suites still run, so one CI log shows everything.
const failedSteps = [];
for (const [name, args] of steps) {
  console.log(`\n== npm test: ${name}`);
  if (turbo(args) !== 0) {
    failedSteps.push(name);
    if (name === 'build') break;
  }
}

let passed = 0, failed = 0, skipped = 0;
const perPackage = [];
for (const ws of workspaces) {
  const file = join(root, ws, '.test-results', 'vitest.json');
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const p = report.numPassedTests ?? 0, f = report.numFailedTests ?? 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  passed += p; failed += f; skipped += s;
  perPackage.push(`  ${ws.padEnd(18)} ${p} passed, ${f} failed, ${s} skipped`);
}
console.log('\n== npm test: summary');
for (const line of perPackage) console.log(line);
if (failedSteps.length) console.log(`steps failed: ${failedSteps.join(', ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failedSteps.length || failed > 0 || passed === 0 ? 1 : 0);
