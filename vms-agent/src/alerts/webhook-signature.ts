/**
 * Webhook signatures the Standard Webhooks way (standardwebhooks.com):
 * headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`,
 * where the key is the base64 after the `whsec_` prefix of the shared
 * secret. Receivers verify with any Standard Webhooks library, or with
 * `verifyWebhook` below, and reject old timestamps to stop replays.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The key bytes of a `whsec_…` secret; throws with what is wrong. */
export function webhookKey(secret: string): Buffer {
  const s = secret.trim();
  if (!s.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error(`a webhook secret begins with "${WEBHOOK_SECRET_PREFIX}" followed by base64 (make one with: printf 'whsec_%s' "$(openssl rand -base64 32)")`);
  const b64 = s.slice(WEBHOOK_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('the webhook secret after "whsec_" is not base64');
  const key = Buffer.from(b64, 'base64');
  if (key.length < 24 || key.length > 64) throw new Error(`the webhook secret holds ${key.length} bytes; it must hold 24 to 64`);
  return key;
}

export function signWebhook(key: Uint8Array, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The headers of one delivery. */
export function webhookHeaders(key: Uint8Array, id: string, timestampSeconds: number, body: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': signWebhook(key, id, timestampSeconds, body) };
}

/**
 * Whether `signatureHeader` (space-separated `v1,…` entries; any may match,
 * for key rotation) signs this id, timestamp and body, and the timestamp is
 * within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyWebhook(key: Uint8Array, headers: { id: string; timestamp: string; signature: string }, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(key, headers.id, ts, body).slice(3), 'base64');
  return headers.signature.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2);
    if (version !== 'v1' || !sig) return false;
    const got = Buffer.from(sig, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
