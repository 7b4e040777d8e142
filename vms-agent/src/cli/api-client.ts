/** The CLI's client of a running `vms-agent serve` (global fetch, bearer token). */
import { randomUUID } from 'node:crypto';
import { CliError, EXIT, exitForHttp } from './cli-error.js';

/** What the API accepts after "Bearer " (RFC 6750 b64token, 8-256 characters); vms-agent's own tokens are bct_ + 43 base64url characters. */
const TOKEN_SYNTAX = /^[A-Za-z0-9_\-.~+/=]{8,256}$/;

/**
 * A token the API cannot even parse (a quote, a space or a second line from a
 * token file, a truncated paste) would be answered "missing bearer token";
 * say here what is wrong with it instead, without printing the token.
 */
export function checkTokenSyntax(token: string): void {
  if (TOKEN_SYNTAX.test(token)) return;
  const why =
    token.length < 8 ? `it has ${token.length} characters (at least 8)` : token.length > 256 ? `it has ${token.length} characters (at most 256)` : /\s/.test(token) ? 'it contains white space or a line break' : 'it contains a character a bearer token cannot hold (allowed: A-Z a-z 0-9 - . _ ~ + / =)';
  throw new CliError(
    EXIT.auth,
    'MALFORMED_TOKEN',
    `the API token is malformed: ${why}. Tokens look like bct_ followed by 43 characters, as printed once by "vms-agent tokens create PRINCIPAL"; check --token, BACKCHANNEL_TOKEN or the config file's "token"/"tokenFile"`,
  );
}

/** A fresh Idempotency-Key for one logical request (commands/idempotency.ts): 128 random bits. */
export function newIdempotencyKey(): string {
  return randomUUID();
}

/**
 * Waits before each retry of a request that is safe to repeat (a GET, or a
 * POST carrying an Idempotency-Key) after a connection error or a 502/503/504
 * from a load balancer: about 7.5 s in all, longer than a replica takeover.
 */
export const RETRY_DELAYS_MS: readonly number[] = [250, 500, 1_000, 2_000, 4_000];

export interface RequestOptions {
  /** Sent as Idempotency-Key; makes a POST safe to retry. */
  idempotencyKey?: string;
}

export class ApiClient {
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #retryDelaysMs: readonly number[];

  constructor(url: string, token: string | undefined, options: { retryDelaysMs?: readonly number[] } = {}) {
    this.#url = url;
    this.#token = token;
    this.#retryDelaysMs = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    if (!this.#token) throw new CliError(EXIT.auth, 'NO_TOKEN', 'no API token: pass --token, set BACKCHANNEL_TOKEN, or put "token" in the config file (vms-agent tokens create PRINCIPAL)');
    checkTokenSyntax(this.#token);
    // Repeating a request is safe only when the server would recognise the repeat.
    const retryable = method === 'GET' || options.idempotencyKey !== undefined;
    let res: Response | undefined;
    for (let attempt = 0; ; attempt++) {
      let failure: Error | undefined;
      try {
        res = await fetch(this.#url + path, {
          method,
          headers: {
            authorization: `Bearer ${this.#token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(options.idempotencyKey !== undefined ? { 'idempotency-key': options.idempotencyKey } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        failure = err as Error;
      }
      const gatewayError = res !== undefined && (res.status === 502 || res.status === 503 || res.status === 504);
      if ((failure === undefined && !gatewayError) || !retryable || attempt >= this.#retryDelaysMs.length) {
        if (failure) {
          throw new CliError(EXIT.unreachable, 'UNREACHABLE', `cannot reach vms-agent at ${this.#url} (${failure.cause ? String((failure as { cause: unknown }).cause) : failure.message}); is "vms-agent serve" running? Set --url or BACKCHANNEL_URL`);
        }
        break;
      }
      await new Promise((r) => setTimeout(r, this.#retryDelaysMs[attempt]));
    }
    res = res!;
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
