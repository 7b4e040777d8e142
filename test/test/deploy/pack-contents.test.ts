/**
 * What `npm pack` ships of each package (issue 17: "npm pack --dry-run of
 * each package lists no tests or sources beyond what runs"): compiled
 * JavaScript with its type declarations, the package.json, and the few
 * runtime files each package names (proto's schema, the systemd units,
 * vms-agent's built console). No TypeScript source, no tests, no fixtures.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Files besides dist/**.js and dist/**.d.ts that each package is meant to ship. */
const RUNTIME_EXTRAS: Record<string, RegExp> = {
  proto: /^schema\/backchannel\/v1\/[a-z_]+\.proto$/,
  'bmc-oem': /^systemd\/bmc-oem\.service$/,
  'hypervisor-agent': /^systemd\/(hypervisor-agent\.service|60-hypervisor-agent-ipmi\.rules)$/,
  'vms-agent': /^(systemd\/vms-agent\.service|console\/dist\/.+)$/,
};

function packedFiles(pkg: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root + pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [pack] = JSON.parse(out) as [{ files: { path: string }[] }];
  return pack.files.map((f) => f.path);
}

describe('npm pack contents', () => {
  for (const [pkg, extras] of Object.entries(RUNTIME_EXTRAS)) {
    it(`${pkg}: compiled code, declarations and its runtime files only`, () => {
      const files = packedFiles(pkg);
      expect(files).toContain('package.json');
      expect(files).toContain('dist/index.js');
      const unexpected = files.filter((f) => f !== 'package.json' && !/^dist\/.+\.(js|d\.ts)$/.test(f) && !extras.test(f));
      expect(unexpected).toEqual([]);
      // Nothing compiled from tests, and no TypeScript source outside declarations.
      expect(files.filter((f) => /(^|\/)(test|tests|__tests__|fixtures)\//.test(f) || /\.test\.(js|d\.ts)$/.test(f))).toEqual([]);
      expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    });
  }
});
