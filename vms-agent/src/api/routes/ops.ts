/** Liveness, Prometheus metrics, and the OpenAPI document. */
import { Type } from '@fastify/type-provider-typebox';
import type { ApiDeps, ApiInstance } from '../app.js';
import { Health } from '../schemas.js';
import { authErrors } from './errors.js';

export function registerOpsRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the store answers (public)', tags: ['ops'], security: [], response: { 200: Health } } },
    async () => {
      const hosts = await deps.store.listHosts();
      const linksUp = hosts.filter((h) => deps.linkHealth?.(h.id)?.state === 'up').length;
      return { status: 'ok', hosts: hosts.length, linksUp };
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'], response: { 200: Type.String(), ...authErrors } } }, async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
