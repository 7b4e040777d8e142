/** The CLI's client of a running `vms-agent serve` (global fetch, bearer token). */
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

export class ApiClient {
  readonly #url: string;
  readonly #token: string | undefined;

  constructor(url: string, token: string | undefined) {
    this.#url = url;
    this.#token = token;
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    if (!this.#token) throw new CliError(EXIT.auth, 'NO_TOKEN', 'no API token: pass --token, set BACKCHANNEL_TOKEN, or put "token" in the config file (vms-agent tokens create PRINCIPAL)');
    checkTokenSyntax(this.#token);
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
