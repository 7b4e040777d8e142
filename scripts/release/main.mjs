#!/usr/bin/env node
// `npm run release` (after the build): the release artifacts of the three
// daemons in release/ (or --out DIR):
//   backchannel-NAME-VERSION.tgz      npm tarball: npm install -g ./backchannel-NAME-VERSION.tgz
//   backchannel-NAME_VERSION_ARCH.deb Debian package: apt install ./backchannel-NAME_VERSION_ARCH.deb
//   SHA256SUMS
// docs/deploy.md says which to use where; test/test/deploy runs that guide
// against these files.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDeb } from './deb.mjs';
import { buildNpmTarball } from './npm-tarball.mjs';

export const DAEMONS = ['bmc-oem', 'hypervisor-agent', 'vms-agent'];

export function release({ root, out, debs = true, log = () => {} }) {
  const work = mkdtempSync(join(tmpdir(), 'backchannel-release-'));
  const artifacts = [];
  try {
    mkdirSync(out, { recursive: true });
    for (const name of DAEMONS) {
      const t0 = Date.now();
      const built = buildNpmTarball({ root, name, work, out });
      artifacts.push(built.tarball);
      if (debs) artifacts.push(buildDeb({ root, name, ...built, work, out }));
      log(`${name}: ${artifacts.slice(debs ? -2 : -1).map((a) => `${basename(a)} (${Math.round(statSync(a).size / 1024)} KiB)`).join(', ')} in ${Date.now() - t0} ms`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const sums = artifacts.map((a) => `${createHash('sha256').update(readFileSync(a)).digest('hex')}  ${basename(a)}`).join('\n');
  writeFileSync(join(out, 'SHA256SUMS'), `${sums}\n`);
  return artifacts;
}

if (process.argv[1] && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'no-deb': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: node scripts/release/main.mjs [--out DIR] [--no-deb]   (npm run release builds first)\n');
    process.exit(0);
  }
  const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
  const out = resolve(values.out ?? join(root, 'release'));
  try {
    const artifacts = release({ root, out, debs: !values['no-deb'], log: (m) => process.stdout.write(`release: ${m}\n`) });
    process.stdout.write(`release: ${artifacts.length} artifacts and SHA256SUMS in ${out}\n`);
  } catch (err) {
    process.stderr.write(`release: ${err.message}\n`);
    process.exit(1);
  }
}
