/**
 * Security alerts raised by hypervisor-agents, and their acknowledgement.
 * `security` and `viewer` read them; only `security` acknowledges, with a
 * comment, and never an alert about itself (issue 13, finding 3: mallory
 * acknowledged her own unknown_principal alert, and the first
 * acknowledgement wins).
 */
import { ServiceError } from '../../errors.js';
import type { AlertFilter, AlertRecord, Store } from '../../store/store.js';
import type { ApiDeps, ApiInstance } from '../app.js';
import { AckBody, Alert, AlertIdParam, AlertList, AlertQuery } from '../schemas.js';
import { alertView } from '../views.js';
import { authErrors, forbidden, notFound } from './errors.js';

/** Why `principal` may not acknowledge `alert`, or undefined: the alert names it, or concerns a command it issued or approved. */
export async function selfAcknowledgement(store: Store, alert: AlertRecord, principal: string): Promise<string | undefined> {
  if (alert.principal === principal) return `alert ${alert.id} is about ${principal}`;
  if (!alert.requestId) return undefined;
  const command = await store.getCommand(alert.requestId);
  if (command?.principal === principal) return `alert ${alert.id} concerns command ${command.id}, which ${principal} issued`;
  if (command?.approvals.some((a) => a.principal === principal)) return `alert ${alert.id} concerns command ${command.id}, which ${principal} approved`;
  return undefined;
}

export function registerAlertRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.get(
    '/v1/alerts',
    {
      config: { roles: ['security', 'viewer'] },
      schema: { summary: 'Alerts, newest first (roles: security, viewer)', tags: ['alerts'], querystring: AlertQuery, response: { 200: AlertList, ...authErrors, ...forbidden } },
    },
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
    {
      config: { roles: ['security'] },
      schema: {
        summary: 'Acknowledge an alert with a comment (role: security; never one about yourself); who, when and the comment are recorded',
        tags: ['alerts'],
        params: AlertIdParam,
        body: AckBody,
        response: { 200: Alert, ...authErrors, ...forbidden, ...notFound },
      },
    },
    async (req) => {
      const alert = await deps.store.getAlert(req.params.id);
      if (!alert) throw new ServiceError('ALERT_NOT_FOUND', `no alert ${req.params.id}; list them with GET /v1/alerts`);
      const self = await selfAcknowledgement(deps.store, alert, req.principal);
      if (self) throw new ServiceError('FORBIDDEN', `${self}: someone else in the security role must acknowledge it`);
      // Already acknowledged: the first acknowledgement stands and is answered as it is.
      const acked = await deps.store.ackAlert(alert.id, { by: req.principal, comment: req.body.comment }, deps.clock());
      return alertView(acked ?? alert);
    },
  );
}
