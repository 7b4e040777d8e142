/**
 * Exit codes of the vms-agent CLI (docs/vms-agent.md "Exit codes"):
 *   0 success          1 failed (or the command ended failed)   2 usage error
 *   3 not found        4 not authenticated / not permitted       5 cannot reach the server or BMC
 *   6 command denied   7 command expired, or --wait timed out    8 conflict (wrong state)
 *   9 --wait returned at awaiting_approval: the command needs a signature only a person can give
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  unreachable: 5,
  denied: 6,
  expired: 7,
  conflict: 8,
  awaitingApproval: 9,
} as const;

export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(exitCode: number, code: string, message: string) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

export const usage = (message: string): CliError => new CliError(EXIT.usage, 'USAGE', message);

/** Exit code for an API error answer. */
export function exitForHttp(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 400) return EXIT.usage;
  return EXIT.failed;
}
