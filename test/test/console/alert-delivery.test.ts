/**
 * Alert delivery against real receivers (issue 14): a private rsyslogd on
 * 127.0.0.1 taking RFC 5424 over UDP, TCP (octet counting) and TLS (test CA
 * by openssl), and an HTTP receiver verifying Standard Webhooks signatures,
 * in front of the real stack (vms-agent serve, bmc-oem, hypervisor-agent).
 *
 * Phase 1: the receivers are down; mallory's denied commands raise alerts;
 * vms-agent is killed with -9 while they wait. Phase 2: vms-agent starts
 * again, the receivers come up, more alerts are raised. Every alert must
 * reach the webhook, TCP and TLS receivers, with verified signatures and
 * the alert's fields in the structured data as rsyslog parsed them. UDP has
 * no acknowledgement: what was "sent" to a closed port is gone, so it is
 * only held to the alerts raised while rsyslogd listened. Phase 3: vms-agent
 * is killed while the webhook receiver holds an alert without answering;
 * after the restart that alert is sent again with the same webhook-id.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../src/harness/poll-until.js';
import { freeTcpPort } from '../../src/harness/ports.js';
import { PrivateRsyslog } from '../../src/console/rsyslog.js';
import { WebhookReceiver } from '../../src/console/webhook-receiver.js';
import { VmsAgentStack } from '../../src/vms-agent-e2e/stack.js';

const SECRET = `whsec_${Buffer.from('backchannel-delivery-test-secret-32b').toString('base64')}`;
const dir = mkdtempSync(join(tmpdir(), 'alert-delivery-'));
const rsyslog = new PrivateRsyslog(join(dir, 'rsyslog'));
let webhook: WebhookReceiver;
let stack: VmsAgentStack;

interface AlertView {
  id: number;
  alertId: string;
  kind: string;
  principal: string;
  signatureStatus: string;
}
interface SinkStatus {
  sink: string;
  pending: number;
  delivered: number;
  dead: number;
}

beforeAll(async () => {
  await rsyslog.reservePorts();
  webhook = new WebhookReceiver(await freeTcpPort(), SECRET);
  const secretFile = join(dir, 'hook.whsec');
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const fast = { retryBaseMs: 200, retryMaxMs: 1000, maxAttempts: 100_000, timeoutMs: 3000 };
  stack = new VmsAgentStack({
    vmsConfig: {
      alertSinks: [
        { name: 'siem-udp', type: 'syslog', transport: 'udp', address: `127.0.0.1:${rsyslog.udpPort}`, ...fast },
        { name: 'siem-tcp', type: 'syslog', transport: 'tcp', address: `127.0.0.1:${rsyslog.tcpPort}`, facility: 'local4', ...fast },
        { name: 'siem-tls', type: 'syslog', transport: 'tls', address: `127.0.0.1:${rsyslog.tlsPort}`, caFile: rsyslog.ca.caFile, serverName: 'localhost', ...fast },
        { name: 'chat', type: 'webhook', url: webhook.url, secretFile, ...fast },
      ],
    },
  });
  await stack.start();
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([stack?.stop(), rsyslog.stop(), webhook?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function alerts(): Promise<AlertView[]> {
  return (await stack.api<{ alerts: AlertView[] }>('GET', '/v1/alerts?principal=mallory&limit=1000', 'sec')).json.alerts;
}

/** mallory (not in the host's policy) issues `count` commands; each is denied with an alert. Returns once all are stored. */
async function provoke(count: number): Promise<void> {
  const before = (await alerts()).length;
  for (let i = 0; i < count; i++) {
    const r = await stack.api('POST', `/v1/hosts/hv-01/domains/web-${(i % 2) + 1}/actions`, 'mallory', { action: 'start' });
    expect(r.status).toBe(202);
  }
  await pollUntil(`${before + count} alerts about mallory`, 30_000, async () => ((await alerts()).length >= before + count ? true : undefined));
}

describe('alert delivery to syslog (rsyslogd) and a webhook', () => {
  it('delivers every alert across a kill -9 of vms-agent and receivers that were down', async () => {
    // Phase 1: nothing listens.
    await provoke(3);
    const pending = (await stack.api<{ sinks: SinkStatus[] }>('GET', '/v1/deliveries', 'sec')).json.sinks;
    expect(pending.find((s) => s.sink === 'chat')).toMatchObject({ delivered: 0, dead: 0 });
    expect(pending.find((s) => s.sink === 'siem-tcp')).toMatchObject({ delivered: 0, dead: 0 });
    await stack.vms.crash();

    // Phase 2: vms-agent again, then the receivers, then more alerts.
    await stack.startVms();
    await webhook.start();
    await rsyslog.start();
    await provoke(2);
    const all = await alerts();
    expect(all).toHaveLength(5);
    const ids = all.map((a) => String(a.id)).sort();

    const missing = () => {
      const got = { webhook: new Set(webhook.received.map((r) => String(r.body.data.id))), tcp: new Set(rsyslog.lines('tcp').map((l) => l.params.id)), tls: new Set(rsyslog.lines('tls').map((l) => l.params.id)) };
      return Object.entries(got).flatMap(([receiver, seen]) => ids.filter((id) => !seen.has(id)).map((id) => `${receiver} lacks alert ${id}`));
    };
    try {
      await pollUntil('every alert at the webhook, TCP and TLS receivers', 60_000, async () => (missing().length === 0 ? true : undefined));
    } catch (err) {
      const sinks = (await stack.api('GET', '/v1/deliveries', 'sec')).json;
      throw new Error(`${(err as Error).message}: ${missing().join(', ')}; deliveries ${JSON.stringify(sinks)}`);
    }
    // UDP: at least the two alerts raised while rsyslogd listened.
    const lastTwo = all.slice(0, 2).map((a) => String(a.id));
    await pollUntil('the alerts raised while rsyslogd listened, over UDP', 30_000, async () => (lastTwo.every((id) => rsyslog.lines('udp').some((l) => l.params.id === id)) ? true : undefined));

    // Webhooks: every request signed and verified, one webhook-id per alert, the alert in the body.
    expect(webhook.received.every((r) => r.verified)).toBe(true);
    for (const r of webhook.received) expect(r.id).toBe(`alert_${r.body.data.id}`);
    expect(new Set(webhook.received.map((r) => r.body.data.alertId))).toEqual(new Set(all.map((a) => a.alertId)));
    expect(webhook.received.every((r) => r.body.type === 'alert.raised' && r.body.data.kind === 'unknown_principal' && r.body.data.signatureStatus === 'verified')).toBe(true);

    // Syslog: rsyslog parsed RFC 5424 with our APP-NAME, MSGID, PRI and structured data.
    for (const n of ['tcp', 'tls'] as const) {
      for (const l of rsyslog.lines(n)) {
        expect(l).toMatchObject({ appName: 'vms-agent', msgId: 'unknown_principal' });
        expect(l.structuredData.startsWith('[backchannel@32473 ')).toBe(true);
        expect(l.params).toMatchObject({ host: 'hv-01', kind: 'unknown_principal', principal: 'mallory', signature: 'verified' });
        expect(l.msg).toContain('unknown_principal alert from hv-01');
      }
    }
    expect(rsyslog.lines('tcp')[0]!.pri).toBe(20 * 8 + 4); // local4.warning
    expect(rsyslog.lines('tls')[0]!.pri).toBe(10 * 8 + 4); // authpriv.warning (the default)

    // The API and the metrics agree: nothing pending, nothing dead.
    await pollUntil('deliveries recorded', 10_000, async () => {
      const sinks = (await stack.api<{ sinks: SinkStatus[] }>('GET', '/v1/deliveries', 'sec')).json.sinks;
      return sinks.every((s) => s.pending === 0 && s.dead === 0 && s.delivered === 5) ? true : undefined;
    });
    const metrics = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${stack.tokens.sec}` } }).then((r) => r.text());
    expect(metrics).toMatch(/vms_agent_alert_delivery_pending\{sink="chat"\} 0/);
    expect(metrics).toMatch(/vms_agent_alert_deliveries_total\{sink="chat",outcome="delivered"\} \d+/);
    // Phase 3: vms-agent dies while the webhook receiver has an alert but has not confirmed it:
    // after the restart the alert goes again (same webhook-id), so it is not lost.
    webhook.hold = true;
    const before = webhook.received.length;
    await provoke(1);
    const last = (await alerts())[0]!;
    await pollUntil('the held alert at the webhook receiver', 30_000, async () => (webhook.received.slice(before).some((r) => r.body.data.id === last.id) ? true : undefined));
    await stack.vms.crash();
    const atCrash = webhook.received.length;
    webhook.release();
    await stack.startVms();
    await pollUntil('the unconfirmed alert delivered again after the restart', 60_000, async () => (webhook.received.slice(atCrash).some((r) => r.body.data.id === last.id) ? true : undefined));
    await pollUntil('its delivery recorded', 10_000, async () => {
      const chat = (await stack.api<{ sinks: SinkStatus[] }>('GET', '/v1/deliveries', 'sec')).json.sinks.find((s) => s.sink === 'chat');
      return chat?.delivered === 6 && chat.pending === 0 ? true : undefined;
    });
    expect(webhook.received.filter((r) => r.body.data.id === last.id).every((r) => r.id === `alert_${last.id}` && r.verified)).toBe(true);

    const dup = webhook.received.length - new Set(webhook.received.map((r) => r.id)).size;
    console.log(`alert delivery: 6 alerts; webhook requests ${webhook.received.length} (${dup} repeated after the crash), tcp ${rsyslog.lines('tcp').length}, tls ${rsyslog.lines('tls').length}, udp ${rsyslog.lines('udp').length} lines`);
  }, 180_000);
});
