// `npm run demo` is a README command: it must keep working end to end.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [new URL('../dist/demo/main.js', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo (built entry)', () => {
  it('walks every step through the BMC and exits 0', { timeout: 180_000 }, async () => {
    const { code, stdout, stderr } = await runDemo();
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/web-1\s+running/);
    expect(stdout).toContain('shutdown web-1: running → shutoff');
    expect(stdout).toContain('start web-1: shutoff → running');
    expect(stdout).toContain('is awaiting approval');
    expect(stdout).toContain('start web-2: shutoff → running');
    expect(stdout).toContain('result: denied (ERR_UNKNOWN_PRINCIPAL');
    expect(stdout).toContain('security alert: unknown_principal, mallory → destroy db-1');
    expect(stdout).toContain('host signature verified');
    expect(stdout).toContain('mallory: 403 FORBIDDEN');
    expect(stdout).toMatch(/sec: alert \d+ acknowledged by sec at .*ticket SEC-1/);
    expect(stdout).toMatch(/1 \(to host\)\s+0x[0-9a-f]{8}\s+0\s/);
    expect(stdout).toContain('domains now: db-1 paused, web-1 running, web-2 running');
    expect(stdout).toContain('All processes stopped.');
  });
});
