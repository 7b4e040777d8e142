/**
 * The REST API as a fastify instance, built without listening so tests
 * drive it with inject(). Every route but /healthz and /openapi.json needs
 * a bearer token; errors are `{code, message}` with stable codes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { CommandService } from '../commands/command-service.js';
import { ServiceError } from '../errors.js';
import { StoreConflictError, StoreNotFoundError, type Store } from '../store/store.js';
import { bearerToken, hashToken } from './auth.js';
import type { ServiceMetrics } from './metrics.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerCommandRoutes } from './routes/commands.js';
import { registerHostRoutes } from './routes/hosts.js';
import { registerOpsRoutes } from './routes/ops.js';
import type { LinkHealth } from './views.js';
import { VERSION } from '../version.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated principal (empty on public routes). */
    principal: string;
  }
}

export type ApiInstance = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ApiDeps {
  store: Store;
  commands: CommandService;
  metrics: ServiceMetrics;
  clock: () => number;
  /** Health of the link to each host, when links run in this process. */
  linkHealth?: (hostId: string) => LinkHealth | undefined;
}

export interface BuildAppOptions extends ApiDeps {
  /** A pino logger (redaction configured by the caller) or false for none. */
  logger?: FastifyBaseLogger | false;
}

const PUBLIC_ROUTES = new Set(['/healthz', '/openapi.json']);

export async function buildApp(options: BuildAppOptions): Promise<ApiInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 64 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as ApiInstance;

  app.decorateRequest('principal', '');
  // Query strings and path parameters arrive as text and are coerced to the
  // declared types; JSON bodies are not ({"action": 5} is an error, not "5").
  const coercing = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false });
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Backchannel vms-agent API',
        version: VERSION,
        description: 'Out-of-band VM management through the BMC. Every /v1 route and /metrics need `Authorization: Bearer TOKEN` (vms-agent tokens create).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0] ?? '';
    if (PUBLIC_ROUTES.has(path)) return;
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      throw new ServiceError('UNAUTHENTICATED', 'missing bearer token: send "Authorization: Bearer TOKEN" (create one with: vms-agent tokens create PRINCIPAL)');
    }
    const principal = await options.store.principalForToken(hashToken(token));
    if (!principal) throw new ServiceError('UNAUTHENTICATED', 'unknown or revoked token; create a new one with: vms-agent tokens create PRINCIPAL');
    req.principal = principal;
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    options.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    options.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | ServiceError | Error, req, reply) => {
    if (err instanceof ServiceError) return reply.code(err.statusCode).send({ code: err.code, message: err.message });
    if (err instanceof StoreConflictError) return reply.code(409).send({ code: err.code, message: `${err.message}; read the command again and retry` });
    if (err instanceof StoreNotFoundError) return reply.code(404).send({ code: err.code, message: err.message });
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.code(400).send({ code: 'VALIDATION_FAILED', message: `${fe.validationContext ?? 'request'}${fe.message.startsWith('/') ? '' : ' '}${fe.message}` });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ code: 'VALIDATION_FAILED', message: fe.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error; the vms-agent log has the details' });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}; the routes are listed at /openapi.json` });
  });

  registerOpsRoutes(app, options);
  registerCommandRoutes(app, options);
  registerHostRoutes(app, options);
  registerAlertRoutes(app, options);
  return app;
}
