/**
 * Alert delivery state (docs/alert-delivery.md): each sink's counts and
 * last error, its deliveries (the dead letters above all), and redelivery
 * of one. `security` and `viewer` read; only `security` redelivers.
 * Sink targets are shown without path or query (a webhook URL's path is
 * often its secret).
 */
import { Type, type Static, type TSchema } from '@fastify/type-provider-typebox';
import type { AlertDeliverer } from '../../alerts/deliverer.js';
import { ServiceError } from '../../errors.js';
import type { ApiDeps, ApiInstance } from '../app.js';
import { ErrorBody } from '../schemas.js';
import { authErrors, forbidden, notFound } from './errors.js';

const Nullable = <T extends TSchema>(t: T) => Type.Unsafe<Static<T> | null>({ ...t, nullable: true });
const SinkName = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' });
const State = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]);

const SinkStatus = Type.Object({
  sink: Type.String(),
  type: Type.String({ description: 'syslog or webhook' }),
  target: Type.String({ description: 'where it sends, without path or query' }),
  maxAttempts: Type.Integer(),
  pending: Type.Integer(),
  delivered: Type.Integer(),
  dead: Type.Integer(),
  oldestPendingAtMs: Nullable(Type.Integer()),
  lastDeliveredAtMs: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  lastErrorAtMs: Nullable(Type.Integer()),
});

const Delivery = Type.Object({
  sink: Type.String(),
  seq: Type.Integer({ description: 'the alert outbox sequence number' }),
  alertId: Type.Integer({ description: "vms-agent's alert id (GET /v1/alerts)" }),
  kind: Type.String(),
  hostId: Type.String(),
  state: State,
  attempts: Type.Integer(),
  nextAttemptAtMs: Type.Integer(),
  lastError: Nullable(Type.String()),
  updatedAtMs: Type.Integer(),
  deliveredAtMs: Nullable(Type.Integer()),
  queuedAtMs: Type.Integer(),
});

export interface DeliveryDeps {
  /** Present when `serve` runs a deliverer (alertSinks configured). */
  alertDelivery?: AlertDeliverer;
}

function requireSink(deliverer: AlertDeliverer | undefined, sink: string): AlertDeliverer {
  if (!deliverer || !deliverer.sinkNames.includes(sink)) {
    throw new ServiceError('NOT_FOUND', `no alert sink "${sink}" is configured; the sinks are listed at GET /v1/deliveries`);
  }
  return deliverer;
}

export function registerDeliveryRoutes(app: ApiInstance, deps: ApiDeps & DeliveryDeps): void {
  app.get(
    '/v1/deliveries',
    {
      config: { roles: ['security', 'viewer'] },
      schema: { summary: 'Alert sinks and their delivery state (roles: security, viewer)', tags: ['alerts'], response: { 200: Type.Object({ sinks: Type.Array(SinkStatus) }), ...authErrors, ...forbidden } },
    },
    async () => ({ sinks: deps.alertDelivery ? await deps.alertDelivery.status() : [] }),
  );

  app.get(
    '/v1/deliveries/entries',
    {
      config: { roles: ['security', 'viewer'] },
      schema: {
        summary: 'Deliveries, newest alert first; state=dead lists the dead letters (roles: security, viewer)',
        tags: ['alerts'],
        querystring: Type.Object({ sink: Type.Optional(SinkName), state: Type.Optional(State), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }),
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }), ...authErrors, ...forbidden, ...notFound },
      },
    },
    async (req) => {
      const { sink, state, limit } = req.query;
      if (sink !== undefined) requireSink(deps.alertDelivery, sink);
      if (!deps.alertDelivery) return { deliveries: [] };
      return { deliveries: await deps.alertDelivery.store.list({ ...(sink ? { sink } : {}), ...(state ? { state } : {}), limit: limit ?? 100 }) };
    },
  );

  app.post(
    '/v1/deliveries/:sink/:seq/redeliver',
    {
      config: { roles: ['security'] },
      schema: {
        summary: 'Send a dead (or still pending) alert to its sink again, now, with its attempts reset (role: security)',
        tags: ['alerts'],
        params: Type.Object({ sink: SinkName, seq: Type.Integer({ minimum: 1 }) }),
        response: { 200: Delivery, ...authErrors, ...forbidden, ...notFound, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const deliverer = requireSink(deps.alertDelivery, req.params.sink);
      const entry = await deliverer.store.redeliver(req.params.sink, req.params.seq, deps.clock());
      if (!entry) throw new ServiceError('NOT_FOUND', `sink "${req.params.sink}" has no delivery ${req.params.seq}; list them with GET /v1/deliveries/entries?sink=${req.params.sink}`);
      if (entry.state === 'delivered') return reply.code(409).send({ code: 'ALREADY_DELIVERED', message: `alert ${entry.alertId} was delivered to "${entry.sink}" at ${new Date(entry.deliveredAtMs ?? 0).toISOString()}` });
      req.log.info({ sink: entry.sink, seq: entry.seq, by: req.principal }, 'alert redelivery requested');
      deliverer.wake();
      return entry;
    },
  );
}
