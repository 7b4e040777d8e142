// The bench runner is a README command; check it runs and writes the JSON shape the issue fixes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm run bench (built entry)', () => {
  it('runs a selected benchmark quickly and writes {metrics: [...]}', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    try {
      const out = join(dir, 'bench.json');
      const main = new URL('../dist/bench/main.js', import.meta.url).pathname;
      const result = spawnSync(process.execPath, [main, 'envelope', '--quick', '--json', out], { encoding: 'utf8', timeout: 60_000 });
      expect(result.status, result.stderr).toBe(0);
      const { metrics } = JSON.parse(readFileSync(out, 'utf8')) as { metrics: Array<Record<string, unknown>> };
      expect(metrics.length).toBeGreaterThan(0);
      for (const m of metrics) {
        expect(Object.keys(m)).toEqual(expect.arrayContaining(['name', 'value', 'unit', 'anchor', 'anchorValue', 'ratio']));
        expect(typeof m.value).toBe('number');
        expect(m.value as number).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown benchmark name', () => {
    const main = new URL('../dist/bench/main.js', import.meta.url).pathname;
    const result = spawnSync(process.execPath, [main, 'no-such-bench'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no benchmark matches');
  });
});
