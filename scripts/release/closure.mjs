// The runtime dependency tree of one workspace package, as installed in this
// workspace (package-lock.json's versions, native modules already built from
// source by scripts/bootstrap), laid out again as that package's own
// node_modules. The release uses it for the Debian packages (copied as is)
// and for npm-shrinkwrap.json in the npm tarballs (so `npm install -g` gets
// the same versions the tests ran against).
//
// Resolution is Node's: a dependency of the package at P is P/node_modules/X,
// else the same in each parent directory up to the workspace root. Every edge
// is resolved again in the new layout and must land on the same package; a
// layout that would change what some package loads is refused.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Where Node would find `name` when required from the package directory `from` (stopping at `root`). */
function resolveFrom(name, from, root) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/** The same lookup over the staged layout (keys like node_modules/a/node_modules/b). */
function resolveStaged(name, fromKey, keys) {
  for (let key = fromKey; ; ) {
    const candidate = key === '' ? `node_modules/${name}` : `${key}/node_modules/${name}`;
    if (keys.has(candidate)) return candidate;
    if (key === '') return undefined;
    const i = key.lastIndexOf('/node_modules/');
    key = i < 0 ? '' : key.slice(0, i);
  }
}

/**
 * @param root the workspace root
 * @param pkgDir the workspace package (e.g. ROOT/vms-agent)
 * @param bundled workspace packages bundled inside it (@backchannel/proto): not
 *   part of the closure themselves, but their dependencies are, at the top level
 * @returns Map<stagedKey, {dir, name, version, lockKey}>
 */
export function runtimeClosure(root, pkgDir, bundled = []) {
  const packages = new Map();
  const byDir = new Map();
  const edges = [];
  const skip = new Set(bundled.map((dir) => readJson(join(dir, 'package.json')).name));
  const queue = [{ dir: pkgDir, key: '' }, ...bundled.map((dir) => ({ dir, key: '' }))];
  const stagedKeyOf = (dir) => {
    // ROOT/node_modules/a/node_modules/b and ROOT/PKG/node_modules/a both become node_modules/...
    const rel = relative(root, dir).split(sep).join('/');
    const inPkg = relative(root, pkgDir).split(sep).join('/');
    return rel.startsWith(`${inPkg}/node_modules/`) ? rel.slice(inPkg.length + 1) : rel;
  };
  while (queue.length > 0) {
    const { dir, key } = queue.shift();
    const manifest = readJson(join(dir, 'package.json'));
    // npm installs peer dependencies too (a package imports them like any other).
    const wanted = { ...manifest.peerDependencies, ...manifest.optionalDependencies, ...manifest.dependencies };
    for (const name of Object.keys(wanted)) {
      if (skip.has(name)) continue;
      const found = resolveFrom(name, dir, root);
      if (!found) {
        if (manifest.optionalDependencies?.[name]) continue; // not for this platform
        if (manifest.peerDependenciesMeta?.[name]?.optional) continue;
        throw new Error(`${relative(root, dir) || '.'} needs ${name}, which is not installed: run scripts/bootstrap`);
      }
      const real = realpathSync(found);
      if (!real.startsWith(root)) throw new Error(`${name} resolves outside the workspace (${real})`);
      edges.push({ fromKey: key, name, toDir: found });
      if (byDir.has(found)) continue;
      const stagedKey = stagedKeyOf(found);
      if (!stagedKey.startsWith('node_modules/')) throw new Error(`${found} cannot be placed in the release layout (nested under a bundled package)`);
      const m = readJson(join(found, 'package.json'));
      const clash = packages.get(stagedKey);
      if (clash) throw new Error(`${stagedKey}: both ${clash.dir} and ${found} would go there`);
      const entry = { dir: found, name, version: m.version, lockKey: relative(root, found).split(sep).join('/') };
      packages.set(stagedKey, entry);
      byDir.set(found, stagedKey);
      queue.push({ dir: found, key: stagedKey });
    }
  }
  const keys = new Set(packages.keys());
  for (const e of edges) {
    const staged = resolveStaged(e.name, e.fromKey, keys);
    if (staged !== byDir.get(e.toDir)) {
      throw new Error(`in the release layout ${e.fromKey || 'the package'} would load ${e.name} from ${staged}, not ${byDir.get(e.toDir)}: the workspace's hoisting cannot be reproduced`);
    }
  }
  return packages;
}

/** npm-shrinkwrap.json for the staged package: the lock file's entries of the closure, under their new keys. */
export function shrinkwrapFor(root, manifest, packages, bundled, inBundle = new Set()) {
  const lock = readJson(join(root, 'package-lock.json'));
  const out = {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: manifest.name,
        version: manifest.version,
        license: manifest.license,
        ...(manifest.bundleDependencies ? { bundleDependencies: manifest.bundleDependencies } : {}),
        dependencies: manifest.dependencies,
        ...(manifest.bin ? { bin: manifest.bin } : {}),
        ...(manifest.engines ? { engines: manifest.engines } : {}),
      },
    },
  };
  for (const [key, b] of Object.entries(bundled)) out.packages[key] = { version: b.version, inBundle: true, license: b.license, dependencies: b.dependencies };
  for (const [key, p] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
    const entry = lock.packages[p.lockKey];
    if (!entry || entry.link) throw new Error(`package-lock.json has no installed entry for ${p.lockKey}`);
    if (entry.version !== p.version) throw new Error(`${p.lockKey}: node_modules has ${p.version}, package-lock.json says ${entry.version}: run scripts/bootstrap`);
    const { dev: _dev, devOptional: _devOptional, peer: _peer, resolved, integrity, ...rest } = entry;
    out.packages[key] = inBundle.has(key) ? { ...rest, inBundle: true } : { ...rest, resolved, integrity };
  }
  return out;
}
