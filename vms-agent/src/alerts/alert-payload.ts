/**
 * The alert as it leaves vms-agent: the fields of `GET /v1/alerts` (its
 * API view), so a SIEM rule or a webhook receiver reads the same names an
 * API client does.
 */
import { alertView } from '../api/views.js';
import type { AlertRecord } from '../store/store.js';

export type AlertPayload = ReturnType<typeof alertView>;

export function alertPayload(a: AlertRecord): AlertPayload {
  return alertView(a);
}

/** One line for people: what happened, where, by whom. */
export function alertSummary(a: AlertRecord): string {
  const what = [a.action && `action ${a.action}`, a.domain && `on ${a.domain}`, a.principal && `by ${a.principal}`].filter(Boolean).join(' ');
  return `${a.kind} alert from ${a.hostId}${what ? `: ${what}` : ''}${a.reason ? ` (${a.reason})` : ''}; host signature ${a.signatureStatus}`;
}
