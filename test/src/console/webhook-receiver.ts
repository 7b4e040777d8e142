/**
 * An HTTP receiver for webhook deliveries in tests: verifies each request's
 * Standard Webhooks signature with the shared secret (vms-agent's own
 * verifier, checked against the reference vector in vms-agent's tests) and
 * keeps what arrived. Started and stopped on a fixed port, so a test can
 * have the receiver down for a while.
 */
import { createServer, type Server } from 'node:http';
import { verifyWebhook, webhookKey } from '@backchannel/vms-agent/alerts';

export interface WebhookDelivery {
  id: string;
  timestamp: number;
  verified: boolean;
  body: { type: string; timestamp: string; data: { id: number; alertId: string; kind: string; principal: string; signatureStatus: string } };
}

export class WebhookReceiver {
  readonly port: number;
  readonly received: WebhookDelivery[] = [];
  readonly #key: Buffer;
  #server: Server | undefined;
  /** While true, requests are recorded but not answered (a receiver that is slow to confirm). */
  hold = false;
  readonly #held: (() => void)[] = [];

  constructor(port: number, secret: string) {
    this.port = port;
    this.#key = webhookKey(secret);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/alerts`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const h = { id: String(req.headers['webhook-id'] ?? ''), timestamp: String(req.headers['webhook-timestamp'] ?? ''), signature: String(req.headers['webhook-signature'] ?? '') };
        const verified = verifyWebhook(this.#key, h, body, Math.floor(Date.now() / 1000));
        this.received.push({ id: h.id, timestamp: Number(h.timestamp), verified, body: JSON.parse(body) as WebhookDelivery['body'] });
        const answer = () => {
          if (!res.destroyed) res.writeHead(verified ? 204 : 401).end();
        };
        if (this.hold) this.#held.push(answer);
        else answer();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Answers the held requests (those whose sender is still there) and stops holding. */
  release(): void {
    this.hold = false;
    for (const answer of this.#held.splice(0)) answer();
  }

  async stop(): Promise<void> {
    this.release();
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
