/**
 * Who may do what: the pure decision the request-challenge-verify flow starts
 * with. A request is allowed when one of the principal's roles lists the action
 * and (for per-domain actions) a domain pattern of that same role matches.
 * The first approval rule that covers (action, domain) sets k and the approvers;
 * otherwise the requesting principal alone approves. Read-only actions named in
 * the policy skip the challenge.
 */
import { AlertKind, actionName, type Action } from '@backchannel/proto';
import type { Policy } from './policy.js';

export type PolicyDecision =
  | { allowed: true; challenge: boolean; approvalsRequired: number; approvers: string[] }
  | { allowed: false; alertKind: AlertKind; reason: string };

const DOMAINLESS = new Set(['list_domains']);

export function decide(policy: Policy, principal: string, action: Action, domain: string): PolicyDecision {
  const entry = policy.principals.get(principal);
  if (!entry) return { allowed: false, alertKind: AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL, reason: `principal "${principal}" is not in the policy` };
  const name = actionName(action);
  const permitted = entry.roles.some((roleName) => {
    const role = policy.roles.get(roleName);
    if (!role || !role.actions.has(name)) return false;
    return DOMAINLESS.has(name) || role.domains.some((re) => re.test(domain));
  });
  if (!permitted) {
    const target = DOMAINLESS.has(name) ? '' : ` on domain "${domain}"`;
    return { allowed: false, alertKind: AlertKind.ALERT_KIND_ACTION_NOT_PERMITTED, reason: `principal "${principal}" may not ${name}${target}` };
  }
  if (policy.readOnlyActions.has(name)) return { allowed: true, challenge: false, approvalsRequired: 0, approvers: [] };
  const rule = policy.approvals.find((r) => r.actions.has(name) && (r.domains === null || r.domains.some((re) => re.test(domain))));
  if (rule) return { allowed: true, challenge: true, approvalsRequired: rule.required, approvers: rule.approvers };
  return { allowed: true, challenge: true, approvalsRequired: 1, approvers: [principal] };
}

/** Domains a principal may see (filters list_domains answers to the principal's roles). */
export function visibleDomain(policy: Policy, principal: string, domain: string): boolean {
  const entry = policy.principals.get(principal);
  if (!entry) return false;
  return entry.roles.some((roleName) => {
    const role = policy.roles.get(roleName);
    return !!role && (role.actions.has('list_domains') || role.actions.has('domain_info')) && role.domains.some((re) => re.test(domain));
  });
}
