/**
 * Webhook delivery: one JSON POST per alert, signed Standard Webhooks style
 * (webhook-signature.ts). A 2xx answer is delivery; anything else, a
 * timeout or a refused connection is a failure the deliverer retries. When
 * the receiver cannot be reached at all, the rest of the batch is not
 * tried (they would fail the same way) and counts as failed too.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AlertRecord } from '../store/store.js';
import { VERSION } from '../version.js';
import { alertPayload } from './alert-payload.js';
import { allFailed, type AlertSink, type SinkOutcome } from './alert-sink.js';
import type { WebhookSinkConfig } from './sink-config.js';
import { webhookHeaders, webhookKey } from './webhook-signature.js';

/** The body of a delivery: Standard Webhooks' type / timestamp / data envelope. */
export function webhookBody(a: AlertRecord): string {
  return JSON.stringify({ type: 'alert.raised', timestamp: new Date(a.receivedAtMs).toISOString(), data: alertPayload(a) });
}

/** The same id on every retry of one alert, so receivers de-duplicate. */
export function webhookMessageId(a: AlertRecord): string {
  return `alert_${a.id}`;
}

class Unreachable extends Error {}

export class WebhookSink implements AlertSink {
  readonly config: WebhookSinkConfig;
  readonly #key: Buffer;
  readonly #ca: Buffer | undefined;
  readonly #clock: () => number;

  constructor(config: WebhookSinkConfig, clock: () => number) {
    this.config = config;
    let secret: string;
    try {
      secret = readFileSync(config.secretFile, 'utf8');
    } catch (err) {
      throw new Error(`webhook sink "${config.name}": cannot read secretFile ${config.secretFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      this.#key = webhookKey(secret);
    } catch (err) {
      throw new Error(`webhook sink "${config.name}": ${config.secretFile}: ${(err as Error).message}`);
    }
    this.#ca = config.caFile ? readFileSync(config.caFile) : undefined;
    this.#clock = clock;
  }

  async deliver(alerts: readonly AlertRecord[]): Promise<SinkOutcome[]> {
    const out: SinkOutcome[] = [];
    for (const a of alerts) {
      try {
        await this.#post(a);
        out.push({ ok: true });
      } catch (err) {
        out.push({ ok: false, error: (err as Error).message });
        if (err instanceof Unreachable) return [...out, ...allFailed(alerts.length - out.length, (err as Error).message)];
      }
    }
    return out;
  }

  #post(a: AlertRecord): Promise<void> {
    const body = webhookBody(a);
    const url = new URL(this.config.url);
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': `backchannel-vms-agent/${VERSION}`,
      ...webhookHeaders(this.#key, webhookMessageId(a), Math.floor(this.#clock() / 1000), body),
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers, timeout: this.config.timeoutMs, ...(this.#ca ? { ca: this.#ca } : {}) }, (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`HTTP ${status} from ${url.origin}`));
        });
        res.on('error', (err) => reject(new Error(`${url.origin}: ${err.message}`)));
      });
      req.on('timeout', () => req.destroy(new Unreachable(`${url.origin}: no answer within ${this.config.timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof Unreachable ? err : new Unreachable(`${url.origin}: ${err.message}`)));
      req.end(body);
    });
  }
}
