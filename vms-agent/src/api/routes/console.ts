/**
 * The console (vms-agent/console, built by Vite into console/dist) at
 * /console/, same origin as the API, and GET /v1/me, which tells it who the
 * token belongs to. The static files are public (they hold no data; every
 * call they make needs the token); a strict Content-Security-Policy keeps
 * the page to its own scripts and this origin's API.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type } from '@fastify/type-provider-typebox';
import type { ApiDeps, ApiInstance } from '../app.js';
import { authErrors } from './errors.js';

/** Where the built console is, from src/api/routes or dist/api/routes alike. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

export interface ConsoleDeps {
  /** Directory of the built console (default: the package's console/dist). */
  consoleDir?: string;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export async function registerConsoleRoutes(app: ApiInstance, deps: ApiDeps & ConsoleDeps): Promise<void> {
  app.get(
    '/v1/me',
    {
      config: { roles: ['operator', 'approver', 'security', 'viewer'] },
      schema: { summary: 'The principal the token belongs to, and its roles (any role)', tags: ['ops'], response: { 200: Type.Object({ principal: Type.String(), roles: Type.Array(Type.String()) }), ...authErrors } },
    },
    async (req) => ({ principal: req.principal, roles: [...req.roles] }),
  );

  const root = deps.consoleDir ?? DEFAULT_CONSOLE_DIR;
  const built = existsSync(`${root}/index.html`);
  // Loaded only when there is a console to serve (the CLI's short-lived commands never need it).
  if (built) await app.register((await import('@fastify/static')).default, { root, serve: false, decorateReply: true, cacheControl: false });
  const headers = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };

  app.get('/console', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/'));
  app.get('/console/*', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    if (!built) return reply.code(404).send({ code: 'NOT_FOUND', message: `the console is not built (no ${root}index.html); build it with: npm run build -w @backchannel/vms-agent` });
    const rest = (req.params as { '*': string })['*'];
    // Hashed assets never change; index.html always comes fresh.
    const file = rest === '' || !rest.includes('.') ? 'index.html' : rest;
    reply.headers({ ...headers, 'cache-control': file === 'index.html' ? 'no-store' : 'public, max-age=31536000, immutable' });
    return reply.sendFile(file);
  });
}
