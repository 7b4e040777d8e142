#!/usr/bin/env node
// Generates static protobufjs code (ESM) and its TypeScript declarations
// from schema/backchannel/v1/*.proto into src/gen/. Numbers, not Longs, for
// 64-bit fields: every 64-bit value Backchannel sends (message ids, Unix
// milliseconds, KiB) stays below 2^53, and the codecs check that.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const pkg = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const pbjs = join(dirname(require.resolve('protobufjs-cli/package.json')), 'bin', 'pbjs');
const schemaDir = join(pkg, 'schema');
const protoFiles = readdirSync(join(schemaDir, 'backchannel', 'v1'))
  .filter((f) => f.endsWith('.proto'))
  .sort()
  .map((f) => join(schemaDir, 'backchannel', 'v1', f));

mkdirSync(join(pkg, 'src', 'gen'), { recursive: true });
execFileSync(process.execPath, [
  pbjs, '-t', 'static-module', '-w', 'esm', '--force-number',
  '-p', schemaDir, '-o', join(pkg, 'src', 'gen', 'backchannel.js'), '-d', ...protoFiles,
], { stdio: 'inherit' });
console.log(`generated src/gen/backchannel.{js,d.ts} from ${protoFiles.length} schema files`);
