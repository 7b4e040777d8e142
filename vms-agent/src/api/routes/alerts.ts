/** Security alerts raised by hypervisor-agents, and their acknowledgement. */
import { ServiceError } from '../../errors.js';
import type { AlertFilter } from '../../store/store.js';
import type { ApiDeps, ApiInstance } from '../app.js';
import { Alert, AlertIdParam, AlertList, AlertQuery } from '../schemas.js';
import { alertView } from '../views.js';
import { authErrors, notFound } from './errors.js';

export function registerAlertRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/v1/alerts',
    { schema: { summary: 'Alerts, newest first', tags: ['alerts'], querystring: AlertQuery, response: { 200: AlertList, ...authErrors } } },
    async (req) => {
      const q = req.query;
      const filter: AlertFilter = { limit: q.limit ?? 100 };
      if (q.host !== undefined) filter.hostId = q.host;
      if (q.kind !== undefined) filter.kind = q.kind;
      if (q.principal !== undefined) filter.principal = q.principal;
      if (q.since !== undefined) filter.sinceMs = q.since;
      if (q.acknowledged !== undefined) filter.acknowledged = q.acknowledged;
      return { alerts: (await deps.store.listAlerts(filter)).map(alertView) };
    },
  );

  app.post(
    '/v1/alerts/:id/ack',
    { schema: { summary: 'Acknowledge an alert (recorded with who and when)', tags: ['alerts'], params: AlertIdParam, response: { 200: Alert, ...authErrors, ...notFound } } },
    async (req) => {
      const alert = await deps.store.ackAlert(req.params.id, req.principal, deps.clock());
      if (!alert) throw new ServiceError('ALERT_NOT_FOUND', `no alert ${req.params.id}; list them with GET /v1/alerts`);
      return alertView(alert);
    },
  );
}
