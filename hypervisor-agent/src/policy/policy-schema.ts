/** JSON schema of the policy file (the authorisation list); docs/policy.md explains each field. */
import type { SchemaObject } from 'ajv';

export const ACTION_NAMES = ['start', 'shutdown', 'destroy', 'reboot', 'reset', 'suspend', 'resume', 'list_domains', 'domain_info'] as const;
export const READ_ONLY_ACTION_NAMES = ['list_domains', 'domain_info'] as const;
export type ActionNameText = (typeof ACTION_NAMES)[number];

export interface PolicyFile {
  version: 1;
  principals: Record<string, { publicKeys: string[]; roles: string[] }>;
  roles: Record<string, { actions: ActionNameText[]; domains: string[] }>;
  approvals?: { actions: ActionNameText[]; domains?: string[]; required: number; approvers: string[] }[];
  readOnlyActions?: (typeof READ_ONLY_ACTION_NAMES)[number][];
  challengeTtlSeconds?: number;
}

const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' };
const glob = { type: 'string', minLength: 1, maxLength: 256 };

export const policySchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'principals', 'roles'],
  properties: {
    version: { const: 1 },
    principals: {
      type: 'object',
      propertyNames: name,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['publicKeys', 'roles'],
        properties: {
          publicKeys: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^ed25519:[A-Za-z0-9+/]{43}=$' } },
          roles: { type: 'array', items: name },
        },
      },
    },
    roles: {
      type: 'object',
      propertyNames: name,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['actions', 'domains'],
        properties: {
          actions: { type: 'array', items: { enum: [...ACTION_NAMES] } },
          domains: { type: 'array', items: glob },
        },
      },
    },
    approvals: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['actions', 'required', 'approvers'],
        properties: {
          actions: { type: 'array', minItems: 1, items: { enum: [...ACTION_NAMES] } },
          domains: { type: 'array', items: glob },
          required: { type: 'integer', minimum: 1, maximum: 16 },
          approvers: { type: 'array', minItems: 1, items: name },
        },
      },
    },
    readOnlyActions: { type: 'array', items: { enum: [...READ_ONLY_ACTION_NAMES] } },
    challengeTtlSeconds: { type: 'integer', minimum: 5, maximum: 3600 },
  },
};
