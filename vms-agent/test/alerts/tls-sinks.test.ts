/**
 * Sinks over TLS check who they talk to: an HTTPS webhook and a syslog TLS
 * server with certificates from a test CA (openssl) are reached with the
 * CA configured, and refused without it or under another name. The syslog
 * server here is node's own TLS server reading octet-counted frames (the
 * rsyslogd e2e is test/test/console/alert-delivery.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCa, type TestCa } from '../../../test/src/console/rsyslog.js';
import { parseAlertSinks, type SyslogSinkConfig, type WebhookSinkConfig } from '../../src/alerts/sink-config.js';
import { SyslogSink } from '../../src/alerts/syslog-sink.js';
import { WebhookSink } from '../../src/alerts/webhook-sink.js';
import type { AlertRecord } from '../../src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'tls-sinks-'));
let ca: TestCa;
let otherCa: TestCa;
const alert: AlertRecord = {
  id: 3, alertId: 'a3', hostId: 'hv-01', kind: 'bad_signature', principal: 'eve', action: 'destroy', domain: 'db-1', reason: 'signature does not verify', timeMs: 1, requestId: 'r', signatureStatus: 'bad', receivedAtMs: 2, acknowledged: false,
};

beforeAll(() => {
  ca = makeTestCa(join(dir, 'ca'));
  otherCa = makeTestCa(join(dir, 'other'));
  writeFileSync(join(dir, 'hook.whsec'), `whsec_${Buffer.alloc(32, 5).toString('base64')}`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS sinks', () => {
  it('webhook over HTTPS: delivered with the CA, refused with another CA', async () => {
    const bodies: string[] = [];
    const server = createHttpsServer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) }, (req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        bodies.push(b);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://localhost:${(server.address() as { port: number }).port}/hook`;
    try {
      const sink = (caFile: string) => new WebhookSink(parseAlertSinks([{ name: 'h', type: 'webhook', url, secretFile: join(dir, 'hook.whsec'), caFile, timeoutMs: 5000 }], '/')[0] as WebhookSinkConfig, () => 2000);
      expect(await sink(ca.caFile).deliver([alert])).toEqual([{ ok: true }]);
      expect(JSON.parse(bodies[0]!)).toMatchObject({ data: { kind: 'bad_signature', signatureStatus: 'bad' } });
      const [refused] = await sink(otherCa.caFile).deliver([alert]);
      expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/certificate|self.signed|verify/i) });
      expect(bodies).toHaveLength(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('syslog over TLS: frames arrive with the CA and the right name; another name is refused', async () => {
    const received: Buffer[] = [];
    const server = createTlsServer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) }, (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      // Read to the end, then close our side: what the sink takes as confirmation.
      socket.on('end', () => {
        received.push(Buffer.concat(chunks));
        socket.end();
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const sink = (serverName: string) =>
        new SyslogSink(parseAlertSinks([{ name: 's', type: 'syslog', transport: 'tls', address: `127.0.0.1:${port}`, caFile: ca.caFile, serverName, timeoutMs: 5000 }], '/')[0] as SyslogSinkConfig, { hostname: 'mgr', procId: '1' });
      expect(await sink('localhost').deliver([alert, { ...alert, id: 4 }])).toEqual([{ ok: true }, { ok: true }]);
      const text = received[0]!.toString('utf8');
      // Two octet-counted frames; a forged alert goes out as critical (authpriv.crit = 82).
      const frames = [...text.matchAll(/(\d+) (<82>1 [^]*?)(?=\d+ <|$)/g)].map((m) => [Number(m[1]), Buffer.byteLength(m[2]!)]);
      expect(frames).toHaveLength(2);
      for (const [declared, actual] of frames) expect(declared).toBe(actual);
      const [refused] = await sink('evil.example').deliver([alert]);
      expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/altnames|does not match|hostname/i) });
      expect(received).toHaveLength(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
