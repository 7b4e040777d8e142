/// <reference lib="dom" />
/**
 * The console in Debian's Chromium (playwright-core, headless, off the
 * network) against the real stack: vms-agent serve (with two webhook sinks,
 * one of them down and giving up after one attempt),
 * bmc-oem, hypervisor-agent on libvirt's test driver (issue 14 acceptance).
 *
 * sec (security) signs in; an alert provoked by mallory's denied command
 * appears without a reload; sec acknowledges it with a comment and sees
 * who and when. vic (viewer) sees the alert and cannot acknowledge (nor can
 * the API be made to). alice (operator) shuts a running domain down from
 * the fleet page, through the confirmation, and sees its state change.
 * bob's command awaits his operator-held approval: the commands page shows
 * the approve line, and running that very line completes the command. The
 * viewer sees the dead letters of the sink that was down; sec redelivers
 * them once its receiver is up.
 * Screenshots of each page (1280×800, and narrow) go to
 * test/.test-results/screenshots; the page never loads anything from
 * another origin.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedContext, launchChromium, screenshotPath } from '../../src/console/browser.js';
import { WebhookReceiver } from '../../src/console/webhook-receiver.js';
import { freeTcpPort } from '../../src/harness/ports.js';
import { pollUntil } from '../../src/harness/poll-until.js';
import { VMS_AGENT_MAIN, VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

const SECRET = `whsec_${Buffer.from('backchannel-console-test-secret-32').toString('base64')}`;
const dir = mkdtempSync(join(tmpdir(), 'console-browser-'));
let stack: VmsAgentStack;
let browser: Browser;
let webhook: WebhookReceiver;
/** A second sink whose receiver is down until the security principal redelivers its dead letters. */
let ticketing: WebhookReceiver;
const blockedAll: string[] = [];

beforeAll(async () => {
  webhook = new WebhookReceiver(await freeTcpPort(), SECRET);
  await webhook.start();
  ticketing = new WebhookReceiver(await freeTcpPort(), SECRET);
  writeFileSync(join(dir, 'hook.whsec'), SECRET, { mode: 0o600 });
  const secretFile = join(dir, 'hook.whsec');
  stack = new VmsAgentStack({
    vmsConfig: {
      alertSinks: [
        { name: 'security-chat', type: 'webhook', url: webhook.url, secretFile, retryBaseMs: 200, retryMaxMs: 1000 },
        { name: 'ticketing', type: 'webhook', url: ticketing.url, secretFile, maxAttempts: 1 },
      ],
    },
  });
  await stack.start();
  await stack.must(['principals', 'add', 'vic', '--custodial', '--roles', 'viewer']);
  stack.tokens.vic = (await stack.cliJson<{ token: string }>(['tokens', 'create', 'vic'])).token;
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await Promise.allSettled([stack?.stop(), webhook?.stop(), ticketing?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(who: string, viewport?: { width: number; height: number }): Promise<Page> {
  const { context, blocked } = await isolatedContext(browser, stack.url, viewport);
  const page = await context.newPage();
  page.on('close', () => blockedAll.push(...blocked));
  await page.goto(`${stack.url}/console/`);
  await page.getByLabel('API token').fill(stack.tokens[who]!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`${who} (`).waitFor();
  await page.locator('#live-state', { hasText: 'Live' }).waitFor();
  return page;
}

/** Every form control has a label (for= or aria-label): the console's accessibility floor. */
async function unlabelled(page: Page): Promise<string[]> {
  return page.$$eval('input, select, textarea', (els) =>
    els.filter((e) => !(e.id && document.querySelector(`label[for="${e.id}"]`)) && !e.getAttribute('aria-label') && !e.closest('label')).map((e) => e.outerHTML.slice(0, 80)),
  );
}

async function domainState(name: string): Promise<string | undefined> {
  const { json } = await stack.api<{ domains?: { name: string; state: string }[] }>('GET', '/v1/hosts/hv-01/domains', 'alice');
  return json.domains?.find((d) => d.name === name)?.state;
}

describe('console in Chromium against the real stack', () => {
  it('sign-in page, then a denied command’s alert appears live and is acknowledged with a comment', async () => {
    const { context } = await isolatedContext(browser, stack.url);
    const first = await context.newPage();
    await first.goto(`${stack.url}/console/`);
    await first.getByRole('heading', { name: 'Sign in' }).waitFor();
    await first.screenshot({ path: screenshotPath('sign-in') });
    // A wrong token is refused with the API's words, and nothing is stored.
    await first.getByLabel('API token').fill('bct_' + 'A'.repeat(43));
    await first.getByRole('button', { name: 'Sign in' }).click();
    await first.getByText(/unknown token/).waitFor();
    expect(await first.evaluate(() => sessionStorage.length)).toBe(0);
    await context.close();

    const page = await signIn('sec');
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('backchannel.token'))).toBe(stack.tokens.sec);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await page.getByText('No alerts match.').waitFor();

    // mallory is not in the host's policy: her command is denied and the host raises a signed alert.
    const r = await stack.api<{ id: string }>('POST', '/v1/hosts/hv-01/domains/web-1/actions', 'mallory', { action: 'start' });
    expect(r.status).toBe(202);
    await page.locator('li.alert', { hasText: 'unknown_principal' }).waitFor({ timeout: 30_000 });
    const item = page.locator(`li[data-alert-id="${await page.locator('li.alert').first().getAttribute('data-alert-id')}"]`);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42); // no reload
    await expect.poll(() => item.textContent()).toContain('by mallory');
    expect(await item.textContent()).toContain('signature verified');
    expect(await item.textContent()).toContain('new');

    await item.locator('summary').click();
    await item.getByText(r.json.id).waitFor(); // the related command
    await item.getByText('denied').waitFor();
    expect(await unlabelled(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('alerts'), fullPage: true });
    await item.getByLabel(/Comment/).fill('mallory is the red-team account; exercise #7');
    // Another alert arriving while the comment is typed redraws the list, and keeps the comment.
    const second = await stack.api('POST', '/v1/hosts/hv-01/domains/web-2/actions', 'mallory', { action: 'start' });
    expect(second.status).toBe(202);
    await expect.poll(() => page.locator('li.alert').count(), { timeout: 30_000 }).toBe(2);
    expect(await item.getByLabel(/Comment/).inputValue()).toBe('mallory is the red-team account; exercise #7');
    await item.getByRole('button', { name: 'Acknowledge' }).click();
    const ackLine = item.locator('.acked-by');
    await ackLine.waitFor();
    expect(await ackLine.textContent()).toMatch(/^Acknowledged by sec at .+: mallory is the red-team account; exercise #7$/);
    expect(await item.locator('time').count()).toBeGreaterThan(1);
    await page.screenshot({ path: screenshotPath('alert-acknowledged'), fullPage: true });
    const stored = (await stack.api<{ alerts: { acknowledgedBy: string; acknowledgedComment: string }[] }>('GET', '/v1/alerts?acknowledged=true', 'sec')).json.alerts;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ acknowledgedBy: 'sec', acknowledgedComment: 'mallory is the red-team account; exercise #7' });
    await page.context().close();
  }, 90_000);

  it('a viewer sees the alert but cannot acknowledge, in the console or the API', async () => {
    await pollUntil('an alert not acknowledged yet', 30_000, async () => ((await stack.api<{ alerts: unknown[] }>('GET', '/v1/alerts?acknowledged=false', 'sec')).json.alerts.length > 0 ? true : undefined));
    const page = await signIn('vic');
    const open = page.locator('li.alert.open').first();
    await open.waitFor();
    await open.locator('summary').click();
    await open.getByText('Only the security role acknowledges alerts.').waitFor();
    expect(await open.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    expect(await page.locator('textarea').count()).toBe(0);
    const id = await open.getAttribute('data-alert-id');
    const denied = await stack.api<{ code: string }>('POST', `/v1/alerts/${id}/ack`, 'vic', { comment: 'looks fine' });
    expect(denied.status).toBe(403);
    // The viewer may read the delivery state; the webhook sink got both alerts.
    await page.getByRole('link', { name: 'Delivery' }).click();
    await page.locator('tr[data-sink="security-chat"]').waitFor();
    await expect.poll(async () => page.locator('tr[data-sink="security-chat"] td').nth(2).textContent(), { timeout: 20_000 }).toBe('2');
    // ticketing's receiver is down and it gives up after one attempt: both alerts are dead letters, which a viewer cannot redeliver.
    await expect.poll(async () => page.locator('tr[data-sink="ticketing"] td').nth(3).textContent(), { timeout: 20_000 }).toBe('2');
    await page.locator('table.dead tbody tr').nth(1).waitFor();
    expect(await page.getByRole('button', { name: 'Redeliver' }).count()).toBe(0);
    expect(webhook.received.every((w) => w.verified)).toBe(true);
    await page.context().close();
  }, 90_000);

  it('the security principal redelivers the dead letters once their receiver is back', async () => {
    const page = await signIn('sec');
    await page.getByRole('link', { name: 'Delivery' }).click();
    const dead = page.locator('table.dead tbody tr');
    await dead.nth(1).waitFor();
    expect(await dead.first().textContent()).toMatch(/ticketing.*unknown_principal on hv-01.*ECONNREFUSED/);
    await page.screenshot({ path: screenshotPath('delivery'), fullPage: true });
    await ticketing.start();
    await dead.first().getByRole('button', { name: 'Redeliver' }).click();
    await expect.poll(() => dead.count(), { timeout: 20_000 }).toBe(1);
    await dead.first().getByRole('button', { name: 'Redeliver' }).click();
    await page.getByText('None.').waitFor({ timeout: 20_000 });
    await expect.poll(async () => page.locator('tr[data-sink="ticketing"] td').nth(2).textContent(), { timeout: 20_000 }).toBe('2');
    expect(ticketing.received.map((r) => r.verified)).toEqual([true, true]);
    await page.context().close();
  }, 90_000);

  it('an operator shuts a running domain down from the fleet page, through the confirmation, and sees the state change', async () => {
    const { json } = await stack.api<{ domains: { name: string; state: string }[] }>('GET', '/v1/hosts/hv-01/domains', 'alice');
    const running = json.domains.find((d) => d.state === 'running')!.name;
    const page = await signIn('alice');
    await page.getByRole('link', { name: 'Fleet' }).click();
    const host = page.locator('section[data-host="hv-01"]');
    await host.waitFor();
    await host.getByText('up', { exact: true }).first().waitFor();
    await expect.poll(() => host.locator('.report-age').textContent()).toMatch(/ago \(report \d+\)/);
    expect(await host.textContent()).toMatch(/to host \d+ \(\d+\/\d+ B\), to manager \d+/);
    const row = page.locator(`tr[data-domain="${running}"]`);
    expect(await row.locator('.state').textContent()).toBe('running');
    await page.screenshot({ path: screenshotPath('fleet'), fullPage: true });
    await row.getByLabel(`Action on ${running}`).selectOption('shutdown');
    await row.getByRole('button', { name: 'Run' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('its services stop');
    await page.screenshot({ path: screenshotPath('fleet-confirm') });
    await dialog.getByRole('button', { name: `Yes, shutdown ${running}` }).click();
    await page.locator('#issued li', { hasText: `shutdown ${running}` }).getByText('applied').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator(`tr[data-domain="${running}"] .state`).textContent(), { timeout: 30_000 }).toBe('shutoff');
    expect(await domainState(running)).toBe('shutoff');
    // Cancelling the confirmation issues nothing.
    const before = (await stack.api<{ commands: unknown[] }>('GET', '/v1/commands', 'alice')).json.commands.length;
    await page.locator(`tr[data-domain="${running}"]`).getByLabel(`Action on ${running}`).selectOption('destroy');
    await page.locator(`tr[data-domain="${running}"]`).getByRole('button', { name: 'Run' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect((await stack.api<{ commands: unknown[] }>('GET', '/v1/commands', 'alice')).json.commands.length).toBe(before);
    await page.context().close();
  }, 90_000);

  it('a command awaiting an operator-held approval shows its approve line, and that line completes it', async () => {
    const { json } = await stack.api<{ domains: { name: string; state: string }[] }>('GET', '/v1/hosts/hv-01/domains', 'alice');
    const off = json.domains.find((d) => d.state === 'shutoff')!.name;
    const issued = await stack.api<{ id: string }>('POST', `/v1/hosts/hv-01/domains/${off}/actions`, 'bob', { action: 'start' });
    await stack.waitCommand(issued.json.id, (c) => c.state === 'awaiting_approval');
    const page = await signIn('bob');
    await page.getByRole('link', { name: 'Commands' }).click();
    const item = page.locator(`li[data-command-id="${issued.json.id}"]`);
    await item.waitFor();
    await item.locator('summary').click();
    const line = (await item.locator('pre.approve-line').textContent())!;
    expect(line).toBe(`vms-agent approve ${issued.json.id} --key FILE --url ${stack.url}`);
    await item.getByText('queued', { exact: true }).first().waitFor(); // the trail
    await page.screenshot({ path: screenshotPath('commands'), fullPage: true });

    const args = line.split(' ').slice(1).map((a) => (a === 'FILE' ? stack.bobKeyFile : a));
    const run = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, [VMS_AGENT_MAIN, ...args, '--token', stack.tokens.bob!], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr })),
    );
    expect(run.code, run.out).toBe(0);
    await item.getByText('applied').first().waitFor({ timeout: 30_000 });
    await page.context().close();
  }, 90_000);

  it('works on a narrow screen, and never loaded anything from another origin', async () => {
    const page = await signIn('sec', { width: 390, height: 844 });
    await page.locator('li.alert').first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await page.screenshot({ path: screenshotPath('alerts-narrow'), fullPage: true });
    await page.getByRole('link', { name: 'Fleet' }).click();
    await page.locator('section[data-host="hv-01"] table').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(1);
    await page.screenshot({ path: screenshotPath('fleet-narrow'), fullPage: true });
    // A reload keeps the session (sessionStorage); with the keyboard, the skip link is the first stop.
    await page.reload();
    await page.locator('section[data-host="hv-01"]').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.context().close();
    expect(blockedAll).toEqual([]);
  }, 60_000);
});
