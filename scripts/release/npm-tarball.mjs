// One daemon's npm tarball: the workspace package as `npm pack` makes it (its
// `files`), with @backchannel/proto bundled inside (it is never published),
// proto's own dependencies declared at the top, no development scripts, and
// npm-shrinkwrap.json pinning every dependency to the version the workspace's
// tests ran against. Installs with `npm install -g ./NAME-VERSION.tgz`.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeClosure, shrinkwrapFor } from './closure.mjs';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });

/** `npm pack` of a directory into `dest`; returns the tarball's path. */
export function pack(dir, dest) {
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', dest], dir));
  return join(dest, info.filename);
}

/** Unpacks an npm tarball's `package/` into `into` (created). */
export function unpack(tarball, into) {
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', into, '--strip-components=1', '--no-same-owner']);
}

/**
 * Files under dist/ that no source produced (left over from a renamed or
 * deleted source file) would be shipped: refuse them.
 */
export function checkNoStaleOutputs(pkgDir) {
  const stale = [];
  const walk = (rel) => {
    for (const e of readdirSync(join(pkgDir, 'dist', rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (r.endsWith('.js')) {
        const base = r.slice(0, -3);
        if (!existsSync(join(pkgDir, 'src', `${base}.ts`)) && !existsSync(join(pkgDir, 'src', `${base}.js`))) stale.push(`dist/${r}`);
      }
    }
  };
  walk('');
  if (stale.length) throw new Error(`${pkgDir}: build output without a source (${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''}); rebuild cleanly: rm -rf ${pkgDir}/dist && npx turbo run build --force`);
}

/**
 * Builds the daemon's tarball in `out`.
 * @returns {{ tarball, manifest, closure, stageDir }} stageDir holds the unpacked, bundled package (reused for the .deb)
 */
export function buildNpmTarball({ root, name, work, out }) {
  const pkgDir = join(root, name);
  const protoDir = join(root, 'proto');
  for (const dir of [protoDir, pkgDir]) checkNoStaleOutputs(dir);
  const packs = join(work, 'packs');
  mkdirSync(packs, { recursive: true });
  const protoTgz = existsSync(join(packs, 'proto.tgz')) ? join(packs, 'proto.tgz') : (() => {
    const t = pack(protoDir, packs);
    renameSync(t, join(packs, 'proto.tgz'));
    return join(packs, 'proto.tgz');
  })();
  const stageDir = join(work, name, 'package');
  rmSync(join(work, name), { recursive: true, force: true });
  unpack(pack(pkgDir, packs), stageDir);
  unpack(protoTgz, join(stageDir, 'node_modules', '@backchannel', 'proto'));

  const manifest = readJson(join(stageDir, 'package.json'));
  const proto = readJson(join(stageDir, 'node_modules', '@backchannel', 'proto', 'package.json'));
  if (manifest.dependencies['@backchannel/proto'] !== proto.version) {
    throw new Error(`${name} depends on @backchannel/proto ${manifest.dependencies['@backchannel/proto']}, the workspace has ${proto.version}`);
  }
  // proto is bundled, so its dependencies must be installed beside it: declare them here.
  for (const [dep, range] of Object.entries(proto.dependencies ?? {})) {
    const own = manifest.dependencies[dep];
    if (own && own !== range) throw new Error(`${name} wants ${dep}@${own} and @backchannel/proto wants ${range}: align them`);
    manifest.dependencies[dep] = range;
  }
  manifest.dependencies = Object.fromEntries(Object.entries(manifest.dependencies).sort(([a], [b]) => a.localeCompare(b)));
  // proto and everything it loads travel inside the tarball: npm takes the dependencies of a
  // bundled package to be bundled too, and would leave them empty otherwise.
  manifest.bundleDependencies = ['@backchannel/proto', ...Object.keys(proto.dependencies ?? {})].sort();
  manifest.files = [...manifest.files, 'npm-shrinkwrap.json']; // npm pack leaves it out otherwise
  delete manifest.scripts;
  delete manifest.devDependencies;
  writeFileSync(join(stageDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const closure = runtimeClosure(root, pkgDir, [protoDir]);
  const protoClosure = new Map([...runtimeClosure(root, protoDir)].map(([key, p]) => {
    if (closure.get(key)?.dir !== p.dir) throw new Error(`${key}: @backchannel/proto's copy differs from ${name}'s`);
    return [key, p];
  }));
  copyClosure(protoClosure, stageDir, { arch: process.arch });
  const shrinkwrap = shrinkwrapFor(root, manifest, closure, { 'node_modules/@backchannel/proto': proto }, new Set(protoClosure.keys()));
  writeFileSync(join(stageDir, 'npm-shrinkwrap.json'), `${JSON.stringify(shrinkwrap, null, 2)}\n`);

  mkdirSync(out, { recursive: true });
  const tarball = pack(stageDir, out);
  return { tarball, manifest, closure, stageDir };
}

/** Copies the closure into stageDir/node_modules (for the .deb): build outputs of native modules only as their .node files. */
export function copyClosure(closure, stageDir, { arch }) {
  for (const [key, p] of closure) {
    const dest = join(stageDir, key);
    // A module compiled here (binding.gyp): of its build tree only the .node files load; its C sources (deps/) only rebuild.
    const compiled = existsSync(join(p.dir, 'binding.gyp'));
    cpSync(p.dir, dest, {
      recursive: true,
      dereference: false,
      filter: (src) => {
        const rel = src.slice(p.dir.length);
        if (rel.startsWith('/node_modules')) return false; // nested packages are closure entries of their own
        if (compiled && /^\/build\//.test(rel) && !/^\/build\/Release(\/[^/]+\.node)?$/.test(rel)) return false;
        if (compiled && /^\/deps(\/|$)/.test(rel)) return false;
        if (p.name === 'koffi' && /^\/build\/koffi\/[^/]+/.test(rel) && !rel.startsWith(`/build/koffi/linux_${arch}`)) return false; // it ships every platform's binary
        return true;
      },
    });
  }
}
