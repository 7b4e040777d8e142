/**
 * The REST API as a fastify instance, built without listening so tests
 * drive it with inject(). Every route but /healthz and /openapi.json needs
 * a bearer token and one of the roles the route names (access.ts); errors
 * are `{code, message}` with stable codes. JSON bodies with a key twice are
 * refused (json-body.ts), names are checked against one grammar
 * (name-formats.ts), request logs carry no query strings (request-log.ts),
 * and with `https` the API speaks only TLS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type RawServerDefault } from 'fastify';
import type { CommandService } from '../commands/command-service.js';
import { ServiceError } from '../errors.js';
import { StoreConflictError, StoreNotFoundError, type Store } from '../store/store.js';
import { authenticate, authorize, checkRouteAccess } from './access.js';
import { strictJsonParser } from './json-body.js';
import type { ServiceMetrics } from './metrics.js';
import { addNameFormats, nameFormatMessage } from './name-formats.js';
import { logRequest, withRedactedRequests } from './request-log.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerCommandRoutes } from './routes/commands.js';
import { type ConsoleDeps, registerConsoleRoutes } from './routes/console.js';
import { type DeliveryDeps, registerDeliveryRoutes } from './routes/deliveries.js';
import { type EventDeps, registerEventRoutes } from './routes/events.js';
import { registerHostRoutes } from './routes/hosts.js';
import { registerOpsRoutes } from './routes/ops.js';
import type { LinkHealth } from './views.js';
import { VERSION } from '../version.js';

export type ApiInstance = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ApiDeps extends DeliveryDeps, EventDeps, ConsoleDeps {
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
  /** Serve HTTPS only, with this certificate chain and key (PEM). */
  https?: { cert: string | Buffer; key: string | Buffer };
}

export async function buildApp(options: BuildAppOptions): Promise<ApiInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: withRedactedRequests(options.logger) } : { logger: false }),
    // fastify would log req.url with its query string; request-log.ts logs without it.
    disableRequestLogging: true,
    bodyLimit: 64 * 1024,
    // A domain name may be 251 bytes, each percent-encoded as 3 characters.
    maxParamLength: 1024,
    // A URL that does not decode (bad percent-encoding, not UTF-8) or a too long path segment: the usual error format.
    frameworkErrors: (err, _req, reply) => {
      const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path segment is longer than 1024 characters' : `the URL cannot be decoded into valid UTF-8 path segments (${err.code})`;
      (reply as unknown as FastifyReply).code(400).send({ code: 'VALIDATION_FAILED', message });
    },
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key, minVersion: 'TLSv1.2' as const } } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as ApiInstance;

  app.decorateRequest('principal', '');
  app.decorateRequest('roles', null as unknown as readonly never[]);
  app.addHook('onRoute', checkRouteAccess);
  // Query strings and path parameters arrive as text and are coerced to the
  // declared types; JSON bodies are not ({"action": 5} is an error, not "5").
  // verbose: a failed name format can say what was wrong with the value.
  const coercing = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, verbose: true });
  const strict = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, verbose: true });
  addNameFormats(coercing);
  addNameFormats(strict);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, strictJsonParser(app.getDefaultJsonParser('error', 'error')));

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
    const config = req.routeOptions.config;
    if (config.public === true) return;
    // Unmatched routes authenticate too (their 404 says nothing to an anonymous caller), without a role check.
    const who = await authenticate(options.store, req, options.clock());
    req.principal = who.principal;
    req.roles = who.roles;
    if (config.roles) authorize(req, config.roles);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    options.metrics.httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    options.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    logRequest(req, reply);
  });

  app.setErrorHandler((err: FastifyError | ServiceError | Error, req, reply) => {
    if (err instanceof ServiceError) return reply.code(err.statusCode).send({ code: err.code, message: err.message });
    if (err instanceof StoreConflictError) return reply.code(409).send({ code: err.code, message: `${err.message}; read the command again and retry` });
    if (err instanceof StoreNotFoundError) return reply.code(404).send({ code: err.code, message: err.message });
    const fe = err as FastifyError;
    if (fe.validation) {
      const context = fe.validationContext ?? 'request';
      const message = nameFormatMessage(context, fe.validation) ?? `${context}${fe.message.startsWith('/') ? '' : ' '}${fe.message}`;
      return reply.code(400).send({ code: 'VALIDATION_FAILED', message });
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
  registerDeliveryRoutes(app, options);
  registerEventRoutes(app, options);
  await registerConsoleRoutes(app, options);
  return app;
}
