import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/**
 * A fresh directory under the OS temp dir, removed when the calling test finishes, passed or
 * failed. vitest runs onTestFinished callbacks after the afterEach hooks, so a process or
 * listener that an afterEach stops is gone before its directory is removed. Call it from a
 * test body; a directory shared by a whole file needs mkdtempSync plus its own afterAll.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
