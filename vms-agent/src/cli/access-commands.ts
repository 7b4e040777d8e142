/**
 * `vms-agent principals …` and `vms-agent tokens …`: who may use the API
 * and with what roles (docs/security.md "Roles"). Local administration:
 * these work on the store directly and need the database and its master
 * key, never an API token, so a stolen token cannot grant itself more.
 */
import { readFileSync } from 'node:fs';
import { decodePublicKey, encodePublicKey, generateSigningKeyPair, keyId } from '@backchannel/proto';
import { hashToken, newToken } from '../api/auth.js';
import { principalNameProblem } from '../names.js';
import { DEFAULT_ROLES, parseRoles, type Role, ROLES } from '../roles.js';
import { type Store, StoreConflictError, StoreNotFoundError, type TokenRecord } from '../store/store.js';
import { type Parsed, need, parse, str } from './args.js';
import { CliError, EXIT, usage } from './cli-error.js';
import { openLocalStore, systemRandom } from './local-store.js';
import { emit, iso, stdoutOut, table } from './output.js';

async function withStore<T>(p: Parsed, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openLocalStore(p.config());
  try {
    return await fn(store);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new CliError(EXIT.conflict, 'CONFLICT', err.message);
    if (err instanceof StoreNotFoundError) throw new CliError(EXIT.notFound, err.code, err.message);
    throw err;
  } finally {
    await store.close();
  }
}

function rolesOption(p: Parsed, name: string): Role[] | undefined {
  const text = str(p, name);
  if (text === undefined) return undefined;
  try {
    return parseRoles(text);
  } catch (err) {
    throw usage(`--${name}: ${(err as Error).message}`);
  }
}

function principalName(p: Parsed, index: number): string {
  const name = need(p, index, 'principal NAME');
  const problem = principalNameProblem(name);
  if (problem) throw usage(`principal names ${problem}`);
  return name;
}

const rolesText = (roles: readonly Role[]) => (roles.length ? roles.join(',') : 'none');

export async function principals(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parse(rest, { 'public-key': { type: 'string' }, 'public-key-file': { type: 'string' }, custodial: { type: 'boolean' }, roles: { type: 'string' } });
  const out = stdoutOut(p.json);
  switch (sub) {
    case 'list':
      return withStore(p, async (store) => {
        const list = await store.listPrincipals();
        emit(out, list, () =>
          list.length === 0
            ? 'no principals; add one with: vms-agent principals add NAME (--custodial | --public-key KEY) [--roles ROLE,...]'
            : table(list.map((x) => [x.name, rolesText(x.roles), x.custodial ? 'custodial' : 'operator-held', keyId(decodePublicKey(x.publicKey)), x.publicKey]), ['NAME', 'ROLES', 'KEY', 'KEY-ID', 'PUBLIC-KEY']),
        );
        return EXIT.ok;
      });
    case 'add':
      return withStore(p, async (store) => {
        const name = principalName(p, 0);
        const roles = rolesOption(p, 'roles') ?? [...DEFAULT_ROLES];
        let publicKey: Uint8Array;
        let secret: Uint8Array | undefined;
        if (p.values.custodial) {
          const pair = generateSigningKeyPair(systemRandom);
          publicKey = pair.publicKey;
          secret = pair.secretKey.subarray(0, 32);
        } else {
          const text = str(p, 'public-key') ?? (str(p, 'public-key-file') ? readFileSync(str(p, 'public-key-file')!, 'utf8') : undefined);
          if (!text) throw usage('principals add NAME needs --public-key KEY, --public-key-file FILE (operator-held) or --custodial');
          publicKey = decodePublicKey(text);
        }
        const pub = encodePublicKey(publicKey);
        await store.addPrincipal({ name, publicKey: pub, roles, ...(secret ? { secretKey: secret } : {}) }, Date.now());
        emit(out, { name, publicKey: pub, keyId: keyId(publicKey), custodial: !!secret, roles }, () =>
          [
            `added principal ${name} (${secret ? 'custodial: vms-agent holds the key' : 'operator-held'}), roles ${rolesText(roles)}`,
            `public key for the hypervisor policy: ${pub}`,
          ].join('\n'),
        );
        return EXIT.ok;
      });
    case 'roles':
      return withStore(p, async (store) => {
        const name = principalName(p, 0);
        const before = await store.getPrincipal(name);
        if (!before) throw new CliError(EXIT.notFound, 'PRINCIPAL_NOT_FOUND', `no principal ${name}; list them with: vms-agent principals list`);
        const text = p.positionals[1];
        if (text === undefined) {
          emit(out, { name, roles: before.roles }, () => `${name}: ${rolesText(before.roles)}`);
          return EXIT.ok;
        }
        let roles: Role[];
        try {
          roles = parseRoles(text);
        } catch (err) {
          throw usage((err as Error).message);
        }
        await store.setPrincipalRoles(name, roles);
        emit(out, { name, roles, previous: before.roles }, () => `${name}: ${rolesText(roles)} (was ${rolesText(before.roles)}); effective at its next API request`);
        return EXIT.ok;
      });
    case 'remove':
      return withStore(p, async (store) => {
        const name = principalName(p, 0);
        const tokens = (await store.listTokens({ principal: name })).length;
        if (!(await store.removePrincipal(name))) throw new CliError(EXIT.notFound, 'PRINCIPAL_NOT_FOUND', `no principal ${name}`);
        emit(out, { name, removed: true, tokensRemoved: tokens }, () =>
          `removed principal ${name} and its ${tokens} token(s); its name stays in command and alert history. Remove it from every host's policy too (docs/policy.md).`,
        );
        return EXIT.ok;
      });
    default:
      throw usage(`principals ${sub ?? ''}: use list, add, roles or remove (roles: ${ROLES.join(', ')})`);
  }
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `--expires`: a duration (90m, 12h, 30d, 2w), a date or date-time (ISO 8601), or "never". Returns the expiry in Unix ms, or undefined for never. */
export function parseExpiry(text: string, nowMs: number): number | undefined {
  const t = text.trim();
  if (t === 'never') return undefined;
  const d = /^(\d{1,5})([mhdw])$/.exec(t);
  if (d) {
    const ms = Number(d[1]) * UNIT_MS[d[2]!]!;
    if (ms <= 0) throw usage('--expires must be in the future');
    return nowMs + ms;
  }
  if (/^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const at = Date.parse(t);
    if (!Number.isFinite(at)) throw usage(`--expires: "${t}" is not a date`);
    if (at <= nowMs) throw usage(`--expires ${t} is in the past`);
    return at;
  }
  throw usage(`--expires takes a duration (90m, 12h, 30d, 2w), an ISO date (2027-01-31 or 2027-01-31T12:00Z) or never; got "${t}"`);
}

export function tokenState(t: TokenRecord, nowMs: number): 'active' | 'expired' | 'revoked' {
  if (t.revokedAtMs !== undefined) return 'revoked';
  if (t.expiresAtMs !== undefined && nowMs >= t.expiresAtMs) return 'expired';
  return 'active';
}

export async function tokens(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parse(rest, { label: { type: 'string' }, expires: { type: 'string' }, principal: { type: 'string' } });
  const out = stdoutOut(p.json);
  switch (sub) {
    case 'create':
      return withStore(p, async (store) => {
        const principal = principalName(p, 0);
        const now = Date.now();
        const expiresAtMs = parseExpiry(str(p, 'expires') ?? 'never', now);
        const label = str(p, 'label') ?? '';
        if (/[\p{Cc}]/u.test(label) || label.length > 200) throw usage('--label is at most 200 characters without control characters');
        const token = newToken(systemRandom);
        let record: TokenRecord;
        try {
          record = await store.addToken({ hash: hashToken(token), principal, label, ...(expiresAtMs !== undefined ? { expiresAtMs } : {}) }, now);
        } catch (err) {
          if (err instanceof StoreNotFoundError) throw new CliError(EXIT.notFound, 'PRINCIPAL_NOT_FOUND', `${err.message}; add it with: vms-agent principals add ${principal} ...`);
          throw err;
        }
        const roles = (await store.getPrincipal(principal))?.roles ?? [];
        emit(out, { principal, token, id: record.id, expiresAtMs: record.expiresAtMs ?? null, roles }, () =>
          `${token}\n(shown once; vms-agent keeps only its hash. id ${record.id}, ${expiresAtMs !== undefined ? `expires ${iso(expiresAtMs)}` : 'no expiry'}, ${principal}'s roles: ${rolesText(roles)})`,
        );
        return EXIT.ok;
      });
    case 'list':
      return withStore(p, async (store) => {
        const who = str(p, 'principal');
        const list = await store.listTokens(who !== undefined ? { principal: who } : {});
        const now = Date.now();
        const rows = list.map((t) => ({ ...t, state: tokenState(t, now) }));
        emit(out, rows, () =>
          rows.length === 0
            ? 'no tokens; create one with: vms-agent tokens create PRINCIPAL [--expires 30d]'
            : table(rows.map((t) => [t.id, t.principal, t.state, iso(t.createdAtMs), t.expiresAtMs !== undefined ? iso(t.expiresAtMs) : 'never', t.revokedAtMs !== undefined ? iso(t.revokedAtMs) : '-', t.label || '-']), ['ID', 'PRINCIPAL', 'STATE', 'CREATED', 'EXPIRES', 'REVOKED', 'LABEL']),
        );
        return EXIT.ok;
      });
    case 'revoke':
      return withStore(p, async (store) => {
        const id = need(p, 0, 'token ID (from vms-agent tokens list)');
        if (!/^[0-9a-f]{16}$/.test(id)) throw usage(`a token id is 16 hex digits as "tokens list" shows it, got "${id.slice(0, 40)}"`);
        const before = (await store.listTokens()).find((t) => t.id === id);
        const t = await store.revokeToken(id, Date.now());
        if (!t) throw new CliError(EXIT.notFound, 'TOKEN_NOT_FOUND', `no token ${id}; list them with: vms-agent tokens list`);
        const already = before?.revokedAtMs !== undefined;
        emit(out, t, () => (already ? `token ${id} of ${t.principal} was already revoked at ${iso(t.revokedAtMs)}` : `revoked token ${id} of ${t.principal}; requests with it now get 401 TOKEN_REVOKED`));
        return EXIT.ok;
      });
    default:
      throw usage(`tokens ${sub ?? ''}: use create PRINCIPAL [--expires 30d] [--label TEXT], list [--principal P], or revoke ID`);
  }
}
