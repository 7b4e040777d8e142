/**
 * A loaded, checked policy: schema-valid (ajv) and consistent (every role a
 * principal names exists, every approver is a principal, k <= n), with public
 * keys decoded and domain globs compiled. Immutable; SIGHUP swaps in a new one.
 */
import { readFileSync } from 'node:fs';
import { decodePublicKey, keyId } from '@backchannel/proto';
import { makeValidator, ValidationError } from '../config/json-validation.js';
import { type ActionNameText, type PolicyFile, policySchema } from './policy-schema.js';

export interface PrincipalEntry {
  name: string;
  keys: { keyId: string; publicKey: Uint8Array }[];
  roles: string[];
}

export interface ApprovalRule {
  actions: ReadonlySet<string>;
  domains: RegExp[] | null; // null: every domain
  required: number;
  approvers: string[];
}

export interface Policy {
  principals: ReadonlyMap<string, PrincipalEntry>;
  roles: ReadonlyMap<string, { actions: ReadonlySet<string>; domains: RegExp[] }>;
  approvals: ApprovalRule[];
  readOnlyActions: ReadonlySet<string>;
  challengeTtlMs: number;
}

const validatePolicyFile = makeValidator<PolicyFile>(policySchema, 'policy');

/** Shell-style glob (`*`, `?`, `[abc]`) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end > i + 1) {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      } else re += '\\[';
    } else re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

export function compilePolicy(raw: unknown): Policy {
  const file = validatePolicyFile(raw);
  const problems: string[] = [];
  const principals = new Map<string, PrincipalEntry>();
  for (const [name, entry] of Object.entries(file.principals)) {
    const keys: PrincipalEntry['keys'] = [];
    entry.publicKeys.forEach((text, i) => {
      try {
        const publicKey = decodePublicKey(text);
        keys.push({ publicKey, keyId: keyId(publicKey) });
      } catch (err) {
        problems.push(`policy.principals.${name}.publicKeys[${i}] ${(err as Error).message}`);
      }
    });
    entry.roles.forEach((role, i) => {
      if (!(role in file.roles)) problems.push(`policy.principals.${name}.roles[${i}] names role "${role}", which is not defined in policy.roles`);
    });
    principals.set(name, { name, keys, roles: [...entry.roles] });
  }
  const roles = new Map<string, { actions: ReadonlySet<string>; domains: RegExp[] }>();
  for (const [name, role] of Object.entries(file.roles)) {
    roles.set(name, { actions: new Set<ActionNameText>(role.actions), domains: role.domains.map(globToRegExp) });
  }
  const approvals: ApprovalRule[] = (file.approvals ?? []).map((rule, i) => {
    rule.approvers.forEach((approver, j) => {
      if (!principals.has(approver)) problems.push(`policy.approvals[${i}].approvers[${j}] names principal "${approver}", which is not defined in policy.principals`);
    });
    if (rule.required > new Set(rule.approvers).size) {
      problems.push(`policy.approvals[${i}].required is ${rule.required} but only ${new Set(rule.approvers).size} distinct approver(s) are listed`);
    }
    return { actions: new Set(rule.actions), domains: rule.domains ? rule.domains.map(globToRegExp) : null, required: rule.required, approvers: [...new Set(rule.approvers)] };
  });
  if (problems.length > 0) throw new ValidationError('policy', problems);
  return {
    principals,
    roles,
    approvals,
    readOnlyActions: new Set(file.readOnlyActions ?? ['list_domains', 'domain_info']),
    challengeTtlMs: (file.challengeTtlSeconds ?? 120) * 1000,
  };
}

export function loadPolicyFile(path: string): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ValidationError('policy', [`${path}: ${(err as Error).message}`]);
  }
  return compilePolicy(raw);
}
