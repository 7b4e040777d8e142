/**
 * One log line per request, without its query string: a query can carry
 * what must never reach a log (issue 13: `?token=` was written to the log,
 * although the token was refused). fastify's own request logging is off
 * (it logs `req.url` whole); this logs the path, the matched route, status,
 * time and principal, and `query: "[redacted]"` when there was one.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';

export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** pino serializer for `req`, should anything log a request object. */
export function redactedRequest(req: { method?: string; url?: string; id?: string }): Record<string, unknown> {
  const url = req.url ?? '';
  return { id: req.id, method: req.method, path: pathOf(url), ...(url.includes('?') ? { query: '[redacted]' } : {}) };
}

/** A logger whose `req` serializer leaves out query strings. */
export function withRedactedRequests(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger.child({}, { serializers: { req: redactedRequest } });
}

export function logRequest(req: FastifyRequest, reply: FastifyReply): void {
  req.log.info(
    {
      method: req.method,
      path: pathOf(req.url),
      ...(req.url.includes('?') ? { query: '[redacted]' } : {}),
      route: req.routeOptions.url ?? null,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(req.principal ? { principal: req.principal } : {}),
    },
    'request',
  );
}
