/**
 * Who is calling, and may they call this route. Runs on every request
 * before the body is read: the bearer token names a principal, the route
 * names the roles that may call it (`config.roles`, any one of them), and a
 * route that names neither roles nor `config.public` cannot be registered
 * (fail closed: a new route without a decision does not start).
 *
 * Finer rules that depend on the record (an operator reads only the
 * commands it issued; nobody acknowledges an alert about themselves) are in
 * the routes, with the helpers below.
 */
import type { FastifyRequest, RouteOptions } from 'fastify';
import { ServiceError } from '../errors.js';
import type { Role } from '../roles.js';
import type { Store } from '../store/store.js';
import { hashToken, readBearer } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated principal (empty on public routes). */
    principal: string;
    /** Its roles at the time of the request. */
    roles: readonly Role[];
  }
  interface FastifyContextConfig {
    /** Roles that may call the route (any one). */
    roles?: readonly Role[];
    /** Answers without a token (/healthz, /openapi.json). */
    public?: boolean;
  }
}

/** Query parameters that look like credentials: refused, so nobody gets used to putting tokens in URLs (they end up in logs and histories). */
const CREDENTIAL_PARAMS = /(?:^|[?&])(?:access_token|token|bearer|api_key|apikey|auth|authorization)=/i;

/** Throws at registration for a route that decided nothing about access. */
export function checkRouteAccess(route: RouteOptions): void {
  const config = route.config as { roles?: readonly Role[]; public?: boolean } | undefined;
  if (config?.public === true) return;
  if (!config?.roles || config.roles.length === 0) {
    throw new Error(`route ${String(route.method)} ${route.url} declares neither config.roles nor config.public: decide who may call it (src/api/access.ts)`);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The principal and roles behind a request's Authorization header, or a 401 that says what is wrong. */
export async function authenticate(store: Store, req: FastifyRequest, nowMs: number): Promise<{ principal: string; roles: readonly Role[] }> {
  const query = req.url.indexOf('?');
  if (query >= 0 && CREDENTIAL_PARAMS.test(req.url.slice(query))) {
    throw new ServiceError('UNAUTHENTICATED', 'credentials in the URL are refused (they end up in logs and browser history); send "Authorization: Bearer TOKEN" instead');
  }
  const bearer = readBearer(req.headers.authorization);
  if (bearer.kind === 'missing') {
    throw new ServiceError('UNAUTHENTICATED', 'missing bearer token: send "Authorization: Bearer TOKEN" (create one with: vms-agent tokens create PRINCIPAL)');
  }
  if (bearer.kind === 'malformed') throw new ServiceError('TOKEN_MALFORMED', `malformed Authorization header: ${bearer.why}`);
  const grant = await store.getToken(hashToken(bearer.token));
  if (!grant) throw new ServiceError('UNAUTHENTICATED', 'unknown token (never issued, or its principal was removed); create one with: vms-agent tokens create PRINCIPAL');
  if (grant.revokedAtMs !== undefined) {
    throw new ServiceError('TOKEN_REVOKED', `token ${grant.id} of ${grant.principal} was revoked at ${iso(grant.revokedAtMs)}; create a new one with: vms-agent tokens create ${grant.principal}`);
  }
  if (grant.expiresAtMs !== undefined && nowMs >= grant.expiresAtMs) {
    throw new ServiceError('TOKEN_EXPIRED', `token ${grant.id} of ${grant.principal} expired at ${iso(grant.expiresAtMs)}; create a new one with: vms-agent tokens create ${grant.principal} --expires ...`);
  }
  return { principal: grant.principal, roles: grant.roles };
}

/** 403 unless the caller has one of `allowed`. */
export function authorize(req: FastifyRequest, allowed: readonly Role[]): void {
  if (allowed.some((r) => req.roles.includes(r))) return;
  const what = `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;
  const has = req.roles.length ? `has the role${req.roles.length > 1 ? 's' : ''} ${req.roles.join(', ')}` : 'has no role';
  throw new ServiceError('FORBIDDEN', `${req.principal} ${has}; ${what} needs one of: ${allowed.join(', ')} (an administrator grants roles with: vms-agent principals roles ${req.principal} ROLE,...)`);
}

/** Whether the caller reads every command, or only those it issued (an operator without another role). */
export function readsAllCommands(req: FastifyRequest): boolean {
  return req.roles.some((r) => r === 'viewer' || r === 'approver' || r === 'security');
}
