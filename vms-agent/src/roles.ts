/**
 * What a principal may do through the manager's API (docs/security.md
 * "Roles"). The hypervisor's policy still decides which principal may do
 * which action on which domain; these roles decide who may use the API for
 * what, and who may read what.
 *
 *   operator  issues commands; reads hosts, domains and the commands it issued
 *   approver  approves other principals' commands; reads every command
 *   security  reads alerts and acknowledges them (never one about itself)
 *   viewer    reads hosts, domains, every command and every alert
 *
 * There is no admin role on the API: hosts, principals, roles and tokens are
 * managed with the local CLI, which needs the store and its master key. A
 * stolen API token therefore cannot mint tokens or grant itself roles.
 */
export const ROLES = ['operator', 'approver', 'security', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles of a principal added without --roles, and of every principal that
 * existed before roles did (store migration): what such a principal could
 * do before, except acknowledging alerts. An alert nobody acknowledged stays
 * in view, which is the safe side; `security` is only ever granted by name.
 */
export const DEFAULT_ROLES: readonly Role[] = ['operator', 'approver', 'viewer'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Parses "operator,viewer" (or "none" for no role); throws with a readable message on anything else. */
export function parseRoles(text: string): Role[] {
  const trimmed = text.trim();
  if (trimmed === 'none') return [];
  const parts = trimmed.split(',').map((s) => s.trim());
  const bad = parts.filter((r) => !isRole(r));
  if (bad.length > 0 || parts.length === 0) {
    throw new Error(`unknown role${bad.length === 1 ? '' : 's'} ${bad.map((b) => `"${b}"`).join(', ')}; roles are ${ROLES.join(', ')} (comma-separated), or none`);
  }
  return sortRoles(parts as Role[]);
}

/** Distinct roles in the order of ROLES. */
export function sortRoles(roles: readonly Role[]): Role[] {
  return ROLES.filter((r) => roles.includes(r));
}
