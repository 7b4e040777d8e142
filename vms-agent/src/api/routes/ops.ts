/** Liveness, Prometheus metrics, and the OpenAPI document. */
import { Type } from '@fastify/type-provider-typebox';
import type { ApiDeps, ApiInstance } from '../app.js';
import { Health } from '../schemas.js';
import { authErrors, forbidden } from './errors.js';

export function registerOpsRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/healthz',
    { config: { public: true }, schema: { summary: 'Liveness: the store answers (public)', tags: ['ops'], security: [], response: { 200: Health } } },
    async () => {
      const hosts = await deps.store.listHosts();
      const linksUp = hosts.filter((h) => deps.linkHealth?.(h.id)?.state === 'up').length;
      return { status: 'ok', hosts: hosts.length, linksUp };
    },
  );

  // Counters and gauges, no records: any role may scrape them.
  app.get(
    '/metrics',
    { config: { roles: ['operator', 'approver', 'security', 'viewer'] }, schema: { summary: 'Prometheus metrics (any role)', tags: ['ops'], response: { 200: Type.String(), ...authErrors, ...forbidden } } },
    async (_req, reply) => {
      reply.header('content-type', deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
