/**
 * Exit codes of the hypervisor-agent executable (docs/hypervisor-agent.md
 * "Exit codes"), aligned with vms-agent's and bmc-oem's where they mean the
 * same thing:
 *   0 success, or a clean stop on SIGTERM/SIGINT
 *   1 failure: the daemon cannot start or stopped on a fatal error, or a
 *     graceful stop did not finish within its grace period
 *   2 usage or configuration error: bad flag, unknown command, invalid
 *     config, policy, seed, host key or bundle (the message names the file and field)
 *   8 a file exists: enroll or keygen would replace it (pass --force)
 */
import { SecretFileError } from '../config/secrets.js';
import { ValidationError } from '../config/json-validation.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, exists: 8 } as const;

/** enroll/keygen refuse to replace an existing file without --force. */
export class FileExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileExistsError';
  }
}

/** A mistake in how the agent was invoked (the message says what to write instead). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof FileExistsError) return EXIT.exists;
  if (err instanceof UsageError || err instanceof ValidationError || err instanceof SecretFileError) return EXIT.usage;
  // node:util parseArgs: unknown option, missing value.
  if (typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS_')) return EXIT.usage;
  return EXIT.failed;
}
