// ARCHITECTURE.md: proto is codec + crypto only. No sockets, timers, files,
// environment or logging may creep in.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gen' ? [] : sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/from ['"](node:)?(dgram|net|fs|fs\/promises|tls|http|https|child_process|timers|timers\/promises|worker_threads)['"]/, 'IO module import'],
  [/from ['"](pino|winston|debug|bunyan)['"]/, 'logger import'],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, 'timer'],
  [/\bprocess\.(env|stdout|stderr|exit)\b/, 'process access'],
  [/\bconsole\.\w+\(/, 'console logging'],
  [/\bDate\.now\(\)/, 'reads the clock (time must be a parameter)'],
  [/\bMath\.random\(\)/, 'unseeded randomness (randomness must be a parameter)'],
];

describe('proto purity', () => {
  const files = sourceFiles(SRC);
  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });
  for (const file of files) {
    it(`${file.slice(SRC.length + 1)} does no IO`, () => {
      const text = readFileSync(file, 'utf8');
      for (const [pattern, what] of FORBIDDEN) expect(text, what).not.toMatch(pattern);
    });
  }
});
