/**
 * A small JSON-over-HTTP client on node:http with keep-alive connections, for
 * the benchmarks that time the vms-agent API. Node 20's global fetch (undici)
 * adds about a millisecond per request on this kind of machine (measured
 * against this client on the same calls), which would be charged to the API
 * under test; this client is what a lean integration would use.
 */
import http from 'node:http';

export interface JsonResponse<T> {
  status: number;
  json: T;
}

export class JsonHttpClient {
  readonly #url: URL;
  readonly #token: string;
  readonly #agent: http.Agent;

  constructor(baseUrl: string, token: string, maxSockets = 8) {
    this.#url = new URL(baseUrl);
    this.#token = token;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 70_000): Promise<JsonResponse<T>> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#url.hostname,
          port: this.#url.port,
          path,
          method,
          agent: this.#agent,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${this.#token}`,
            ...(data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as T });
            } catch {
              reject(new Error(`${method} ${path}: answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
