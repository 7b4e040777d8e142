// The demo is a README command: it must keep working.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run demo (built entry)', () => {
  it('runs the walk-through and exits 0', () => {
    const result = spawnSync(process.execPath, [new URL('../dist/demo/main.js', import.meta.url).pathname], { encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('principal signature valid: true');
    expect(result.stdout).toContain('the same records again: duplicate');
    expect(result.stdout).toContain('a signature by an unknown key is valid: false');
    expect(result.stdout).toContain('result: rejected ERR_ENVELOPE_TAMPERED');
    expect(result.stdout).toContain('domain name visible in the records: no');
  });
});
