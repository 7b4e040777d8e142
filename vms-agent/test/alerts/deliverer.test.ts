/**
 * The deliverer on a real SQLite store and a real HTTP receiver, turned by
 * hand with a fake clock: the outbox is filled with the alert in one
 * transaction (the trigger), a failing receiver gets retries with back-off
 * until the alert is dead, the API lists the dead letter and redelivers it,
 * and the receiver sees signed bodies with one webhook-id per alert.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertDeliverer } from '../../src/alerts/deliverer.js';
import { parseAlertSinks, type WebhookSinkConfig } from '../../src/alerts/sink-config.js';
import { verifyWebhook, webhookKey } from '../../src/alerts/webhook-signature.js';
import { WebhookSink } from '../../src/alerts/webhook-sink.js';
import type { AlertInput } from '../../src/store/store.js';
import { apiFixture } from '../helpers/api-fixture.js';
import { tempStore } from '../helpers/temp-store.js';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

function alertInput(id: string, receivedAtMs: number): AlertInput {
  return {
    alertId: id, hostId: 'hv-01', kind: 'unknown_principal', principal: 'mallory', action: 'start', domain: 'web-1', reason: 'not in the policy',
    timeMs: receivedAtMs, requestId: '', signatureStatus: 'verified', receivedAtMs, raw: new Uint8Array([1]),
  };
}

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let url = '';
let received: Received[] = [];
let answer = 500;

beforeEach(async () => {
  received = [];
  answer = 500;
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook/secret-part`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('alert outbox (SQLite migration 3)', () => {
  it('queues every stored alert in the same transaction, and a duplicate not at all', async () => {
    const t = tempStore();
    try {
      await t.store.addHost({ id: 'hv-01', bmcAddress: '127.0.0.1', bmcPort: 623, bmcUser: 'u', bmcPassword: 'p', bmcPrivilege: 'operator', cipherSuites: [17], iana: 32473, seed: new Uint8Array(32) }, 1);
      const d = t.store.deliveries();
      await d.sync(['s'], 1);
      await t.store.apply([{ kind: 'alert.insert', alert: alertInput('a1', 10) }, { kind: 'alert.insert', alert: alertInput('a2', 11) }]);
      await t.store.apply([{ kind: 'alert.insert', alert: alertInput('a1', 12) }]);
      // A failing batch stores neither the alert nor its outbox entry.
      await expect(t.store.apply([{ kind: 'alert.insert', alert: alertInput('a3', 13) }, { kind: 'command.event', id: 'nope', atMs: 1, event: 'x', detail: '' }])).rejects.toThrow();
      await d.sync(['s'], 20);
      expect((await d.list({ sink: 's' })).map((e) => [e.seq, e.state])).toEqual([[2, 'pending'], [1, 'pending']]);
      // A sink added later starts at the outbox's end; reopening keeps the state.
      await (await t.reopen()).deliveries().sync(['s', 'late'], 30);
      expect(await t.store.deliveries().counts(['s', 'late'])).toMatchObject([{ sink: 's', pending: 2 }, { sink: 'late', pending: 0 }]);
    } finally {
      await t.cleanup();
    }
  });
});

describe('webhook deliverer', () => {
  it('retries with back-off, dead-letters after maxAttempts, and redelivers on request through the API', async () => {
    const f = await apiFixture();
    try {
      const secretFile = join(tempDirOf(f), 'hook.whsec');
      writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
      const [config] = parseAlertSinks([{ name: 'hook', type: 'webhook', url, secretFile, maxAttempts: 3, retryBaseMs: 1000, retryMaxMs: 4000 }], '/');
      const sink = new WebhookSink(config as WebhookSinkConfig, f.clock.now);
      const deliverer = new AlertDeliverer({ store: f.store.deliveries(), sinks: [sink], clock: f.clock.now, random: () => 0, registry: f.metrics.registry });
      await f.store.deliveries().sync(['hook'], f.clock.now());
      // The API app of the fixture has no deliverer: build one that has (same store).
      const { buildApp } = await import('../../src/api/app.js');
      const app = await buildApp({ store: f.store, commands: f.commands, metrics: f.metrics, clock: f.clock.now, alertDelivery: deliverer });

      await f.store.apply([{ kind: 'alert.insert', alert: alertInput('a1', f.clock.now()) }]);
      expect(await deliverer.turn(sink)).toBe(false);
      expect(received).toHaveLength(1);
      // Not due yet (back-off 500 ms with random 0): nothing is sent.
      f.clock.advance(400);
      await deliverer.turn(sink);
      expect(received).toHaveLength(1);
      f.clock.advance(100);
      await deliverer.turn(sink);
      f.clock.advance(1000);
      await deliverer.turn(sink);
      expect(received).toHaveLength(3);
      f.clock.advance(100_000);
      await deliverer.turn(sink);
      expect(received).toHaveLength(3);

      const status = await app.inject({ method: 'GET', url: '/v1/deliveries', headers: f.as('sec') });
      expect(status.json().sinks).toEqual([expect.objectContaining({ sink: 'hook', type: 'webhook', target: url.replace(/\/hook.*/, ''), pending: 0, delivered: 0, dead: 1, lastError: `HTTP 500 from ${new URL(url).origin}` })]);
      const dead = (await app.inject({ method: 'GET', url: '/v1/deliveries/entries?state=dead', headers: f.as('vic') })).json().deliveries;
      expect(dead).toEqual([expect.objectContaining({ sink: 'hook', state: 'dead', attempts: 3, kind: 'unknown_principal' })]);
      const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: f.as('alice') })).body;
      expect(metrics).toContain('vms_agent_alert_delivery_dead{sink="hook"} 1');
      expect(metrics).toContain('vms_agent_alert_deliveries_total{sink="hook",outcome="dead"} 1');

      // A viewer may look but not redeliver; security redelivers; the receiver is fixed.
      expect((await app.inject({ method: 'POST', url: `/v1/deliveries/hook/${dead[0].seq}/redeliver`, headers: f.as('vic') })).statusCode).toBe(403);
      expect((await app.inject({ method: 'POST', url: '/v1/deliveries/nope/1/redeliver', headers: f.as('sec') })).json().code).toBe('NOT_FOUND');
      answer = 204;
      const again = await app.inject({ method: 'POST', url: `/v1/deliveries/hook/${dead[0].seq}/redeliver`, headers: f.as('sec') });
      expect(again.json()).toMatchObject({ state: 'pending', attempts: 0 });
      await deliverer.turn(sink);
      expect(received).toHaveLength(4);
      expect((await deliverer.status())[0]).toMatchObject({ delivered: 1, dead: 0, pending: 0 });
      expect((await app.inject({ method: 'POST', url: `/v1/deliveries/hook/${dead[0].seq}/redeliver`, headers: f.as('sec') })).json().code).toBe('ALREADY_DELIVERED');

      // Every attempt carried the same id and a valid signature over its body.
      const key = webhookKey(SECRET);
      for (const r of received) {
        expect(r.headers['webhook-id']).toBe(received[0]!.headers['webhook-id']);
        expect(verifyWebhook(key, { id: String(r.headers['webhook-id']), timestamp: String(r.headers['webhook-timestamp']), signature: String(r.headers['webhook-signature']) }, r.body, Math.floor(f.clock.now() / 1000), 3600)).toBe(true);
        expect(JSON.parse(r.body)).toMatchObject({ type: 'alert.raised', data: { alertId: 'a1', kind: 'unknown_principal', principal: 'mallory', signatureStatus: 'verified' } });
      }
      await app.close();
    } finally {
      await f.close();
    }
  });

  it('counts an unreachable receiver as a failure for the whole batch', async () => {
    const f = await apiFixture();
    try {
      const secretFile = join(tempDirOf(f), 'hook.whsec');
      writeFileSync(secretFile, SECRET);
      await new Promise<void>((r) => server.close(() => r()));
      const [config] = parseAlertSinks([{ name: 'hook', type: 'webhook', url, secretFile, timeoutMs: 1000 }], '/');
      const sink = new WebhookSink(config as WebhookSinkConfig, f.clock.now);
      const deliverer = new AlertDeliverer({ store: f.store.deliveries(), sinks: [sink], clock: f.clock.now, random: () => 0.5 });
      await f.store.deliveries().sync(['hook'], f.clock.now());
      await f.store.apply([{ kind: 'alert.insert', alert: alertInput('a1', 1) }, { kind: 'alert.insert', alert: alertInput('a2', 2) }]);
      await deliverer.turn(sink);
      const [s] = await deliverer.status();
      expect(s).toMatchObject({ pending: 2, delivered: 0 });
      expect(s!.lastError).toMatch(/ECONNREFUSED/);
      // afterEach closes a server.
      server = createServer().listen(0, '127.0.0.1');
    } finally {
      await f.close();
    }
  });
});

function tempDirOf(f: { store: unknown }): string {
  void f;
  return mkdtempSync(join(tmpdir(), 'vms-agent-hook-'));
}
