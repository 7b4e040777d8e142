/**
 * Debian's Chromium (/usr/bin/chromium, installed by the bootstrap) driven
 * by playwright-core, headless, kept off the network: no background
 * services (updates, sync, safe browsing, translation, metrics), host names
 * other than 127.0.0.1 do not resolve, and every request to another origin
 * is aborted and recorded, so a test can assert the page loaded nothing
 * from elsewhere (no CDN, no external font). --no-sandbox only as root,
 * where Chromium's sandbox cannot start.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** test/.test-results/screenshots (gitignored): where tests put their screenshots. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../.test-results/screenshots/', import.meta.url));

const OFFLINE_FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-sync',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions',
  '--metrics-recording-only',
  '--no-first-run',
  '--no-pings',
  '--no-default-browser-check',
  '--dns-prefetch-disable',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  '--no-proxy-server',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...OFFLINE_FLAGS, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
}

/** A fresh context (its own sessionStorage) that only reaches `origin`; what it tried elsewhere is in `blocked`. */
export async function isolatedContext(browser: Browser, origin: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await browser.newContext({ viewport, serviceWorkers: 'block', locale: 'en-GB', timezoneId: 'UTC' });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  return { context, blocked };
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, `${name}.png`);
}
