/**
 * `hypervisor-agent enroll BUNDLE`: installs what vms-agent exported for this
 * host (docs/hypervisor-agent.md "Enrolment bundle"):
 *   { "version": 1, "hostId": "...", "seed": base64(32 bytes),
 *     "managerPublicKeys"?: ["ed25519:..."], "policy"?: { ...policy file... } }
 * Writes the seed file, the manager keys file and (when present) the policy,
 * all 0600. The bundle's host id must match the config's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decodePublicKey, SEED_BYTES } from '@backchannel/proto';
import type { SchemaObject } from 'ajv';
import type { AgentConfig } from '../config/agent-config.js';
import { makeValidator, ValidationError } from '../config/json-validation.js';
import { writeSecretFile } from '../config/secrets.js';
import { compilePolicy } from '../policy/policy.js';
import { FileExistsError } from './exit-codes.js';

export interface EnrollmentBundle {
  version: 1;
  hostId: string;
  seed: string;
  managerPublicKeys?: string[];
  policy?: Record<string, unknown>;
}

const schema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'hostId', 'seed'],
  properties: {
    version: { const: 1 },
    hostId: { type: 'string', minLength: 1, maxLength: 128 },
    seed: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' },
    managerPublicKeys: { type: 'array', items: { type: 'string' } },
    policy: { type: 'object' },
  },
};
const validate = makeValidator<EnrollmentBundle>(schema, 'bundle');

/** `-` reads standard input (fd 0 itself: a root shell's redirect works for the service user, /dev/stdin would be reopened by path). */
export function readBundle(path: string): EnrollmentBundle {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path === '-' ? 0 : path, 'utf8'));
  } catch (err) {
    throw new ValidationError('bundle', [`${path}: ${(err as Error).message}`]);
  }
  const bundle = validate(raw);
  const problems: string[] = [];
  if (Buffer.from(bundle.seed, 'base64').length !== SEED_BYTES) problems.push(`bundle.seed must be base64 of ${SEED_BYTES} bytes`);
  (bundle.managerPublicKeys ?? []).forEach((key, i) => {
    try {
      decodePublicKey(key);
    } catch (err) {
      problems.push(`bundle.managerPublicKeys[${i}] ${(err as Error).message}`);
    }
  });
  if (bundle.policy) {
    try {
      compilePolicy(bundle.policy);
    } catch (err) {
      problems.push(...(err instanceof ValidationError ? err.problems.map((p) => p.replace(/^policy/, 'bundle.policy')) : [(err as Error).message]));
    }
  }
  if (problems.length > 0) throw new ValidationError('bundle', problems);
  return bundle;
}

/** Returns the files written. */
export function enroll(config: AgentConfig, bundle: EnrollmentBundle, options: { force?: boolean } = {}): string[] {
  if (bundle.hostId !== config.hostId) {
    throw new ValidationError('bundle', [`bundle.hostId "${bundle.hostId}" does not match config.hostId "${config.hostId}"`]);
  }
  const targets = [config.seedFile, config.managerKeysFile, ...(bundle.policy ? [config.policyFile] : [])];
  if (!options.force) {
    const existing = targets.filter((p) => existsSync(p));
    if (existing.length > 0) throw new FileExistsError(`refusing to overwrite ${existing.join(', ')} (use --force to replace them)`);
  }
  writeSecretFile(config.seedFile, `${bundle.seed}\n`);
  writeSecretFile(config.managerKeysFile, `${JSON.stringify({ managerPublicKeys: bundle.managerPublicKeys ?? [] }, null, 2)}\n`);
  if (bundle.policy) writeSecretFile(config.policyFile, `${JSON.stringify(bundle.policy, null, 2)}\n`);
  return targets;
}
