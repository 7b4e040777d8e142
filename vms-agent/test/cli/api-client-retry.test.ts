/**
 * The CLI's API client retries what is safe to repeat: a GET, or a POST
 * carrying an Idempotency-Key, after a connection error or a 502/503/504;
 * every attempt carries the same key. A POST without a key is never sent
 * twice. A real HTTP server that drops connections stands in for a
 * replica going away.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, newIdempotencyKey } from '../../src/cli/api-client.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Answers {ok:n} after dropping the first `drops` requests' connections (or answering them 503). */
async function flaky(drops: number, how: 'drop' | '503' = 'drop'): Promise<{ url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    if (seen.length <= drops) {
      if (how === 'drop') req.socket.destroy();
      else res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"UNAVAILABLE","message":"no backend"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: seen.length }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const a = server.address() as { port: number };
  return { url: `http://127.0.0.1:${a.port}`, seen };
}

const TOKEN = 'bct_' + 'a'.repeat(43);
const fast = { retryDelaysMs: [1, 1, 1] };

describe('ApiClient retries', () => {
  it('retries a POST with an Idempotency-Key after connection errors, sending the same key each time', async () => {
    const s = await flaky(2);
    const key = newIdempotencyKey();
    const r = await new ApiClient(s.url, TOKEN, fast).request<{ ok: number }>('POST', '/v1/x', { a: 1 }, { idempotencyKey: key });
    expect(r).toEqual({ ok: 3 });
    expect(s.seen.map((q) => q.headers['idempotency-key'])).toEqual([key, key, key]);
  });

  it('retries after 503 from a load balancer, and gives up with exit 5 after the last delay', async () => {
    const s = await flaky(1, '503');
    expect(await new ApiClient(s.url, TOKEN, fast).request('GET', '/v1/x')).toEqual({ ok: 2 });
    const dead = await flaky(10);
    await expect(new ApiClient(dead.url, TOKEN, fast).request('POST', '/v1/x', {}, { idempotencyKey: 'k' })).rejects.toMatchObject({ exitCode: 5, code: 'UNREACHABLE' });
    expect(dead.seen).toHaveLength(4);
  });

  it('never repeats a POST without a key', async () => {
    const s = await flaky(1);
    await expect(new ApiClient(s.url, TOKEN, fast).request('POST', '/v1/x', {})).rejects.toMatchObject({ exitCode: 5 });
    expect(s.seen).toHaveLength(1);
  });

  it('makes a fresh random key per request', () => {
    const keys = new Set(Array.from({ length: 100 }, newIdempotencyKey));
    expect(keys.size).toBe(100);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f-]{36}$/);
  });
});
