/** The CLI's client of a running `vms-agent serve` (global fetch, bearer token). */
import { CliError, EXIT, exitForHttp } from './cli-error.js';

export class ApiClient {
  readonly #url: string;
  readonly #token: string | undefined;

  constructor(url: string, token: string | undefined) {
    this.#url = url;
    this.#token = token;
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (!this.#token) throw new CliError(EXIT.auth, 'NO_TOKEN', 'no API token: pass --token, set BACKCHANNEL_TOKEN, or put "token" in the config file (vms-agent tokens create PRINCIPAL)');
    let res: Response;
    try {
      res = await fetch(this.#url + path, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CliError(EXIT.unreachable, 'UNREACHABLE', `cannot reach vms-agent at ${this.#url} (${(err as Error).cause ? String((err as { cause: unknown }).cause) : (err as Error).message}); is "vms-agent serve" running? Set --url or BACKCHANNEL_URL`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new CliError(EXIT.failed, 'BAD_RESPONSE', `vms-agent answered ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const e = json as { code?: string; message?: string } | undefined;
      throw new CliError(exitForHttp(res.status), e?.code ?? `HTTP_${res.status}`, e?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }
}
