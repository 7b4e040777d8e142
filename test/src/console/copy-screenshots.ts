/**
 * Copies the console screenshots the browser tests saved in
 * test/.test-results/screenshots into docs/screenshots (tracked), for the
 * README and docs/console.md. Run by hand after the browser tests, never by
 * a test (tests leave tracked files alone):
 *
 *   cd test && npx vitest run test/console/console-browser.test.ts && node dist/console/copy-screenshots.js
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCREENSHOT_DIR } from './browser.js';

const target = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
if (!existsSync(SCREENSHOT_DIR)) {
  process.stderr.write(`no screenshots in ${SCREENSHOT_DIR}; run test/test/console/console-browser.test.ts first\n`);
  process.exit(1);
}
mkdirSync(target, { recursive: true });
const files = readdirSync(SCREENSHOT_DIR).filter((f) => f.endsWith('.png'));
for (const f of files) copyFileSync(join(SCREENSHOT_DIR, f), join(target, f));
process.stdout.write(`copied ${files.length} screenshots to ${target}\n`);
