/**
 * The console ships with vms-agent: the package's build (turbo) leaves it
 * in console/dist, and `npm pack` — what scripts/release packs into the
 * tarball and the .deb — takes every file index.html refers to, and no
 * console source.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = fileURLToPath(new URL('../../../vms-agent/', import.meta.url));

describe('vms-agent package', () => {
  it('contains the built console and every asset its index.html loads', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkgDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    expect(files).toContain('console/dist/index.html');
    const index = readFileSync(`${pkgDir}console/dist/index.html`, 'utf8');
    const assets = [...index.matchAll(/(?:src|href)="\/console\/([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const a of assets) expect(files).toContain(`console/dist/${a}`);
    expect(files.filter((f) => f.startsWith('console/') && !f.startsWith('console/dist/'))).toEqual([]);
    // No reference to another origin anywhere in the shipped console.
    for (const a of assets) expect(readFileSync(`${pkgDir}console/dist/${a}`, 'utf8')).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}/i);
  });
});
