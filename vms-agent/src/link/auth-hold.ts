/**
 * What a link does after the BMC refused its credentials (RmcpAuthError):
 * wait, instead of retrying into a lockout. A wrong password or a refused
 * name does not get better by itself: the link tries again when the host's
 * credentials change in the store, or once every
 * `badCredentialsMs` (one failed login per ten minutes cannot trip a
 * BMC's lockout). A lockout or throttle is waited out for as long as the
 * BMC said, or a default.
 */
import type { RmcpAuthError } from '../rmcp/errors.js';

export interface AuthRetryPolicy {
  badCredentialsMs: number;
  lockedOutMs: number;
  throttledMs: number;
}

export const DEFAULT_AUTH_RETRY: AuthRetryPolicy = Object.freeze({ badCredentialsMs: 10 * 60_000, lockedOutMs: 5 * 60_000, throttledMs: 30_000 });

export interface AuthHold {
  /** Next attempt at the latest (earlier if the credentials change). */
  untilMs: number;
  /** For `lastError`: which refusal, and how long the link waits. */
  message: string;
}

export function authHold(err: RmcpAuthError, nowMs: number, policy: AuthRetryPolicy = DEFAULT_AUTH_RETRY): AuthHold {
  const fallback = err.kind === 'locked-out' ? policy.lockedOutMs : err.kind === 'throttled' ? policy.throttledMs : policy.badCredentialsMs;
  const waitMs = Math.max(1_000, err.retryAfterMs ?? fallback);
  const untilMs = nowMs + waitMs;
  const when = `${new Date(untilMs).toISOString()} (in ${seconds(waitMs)})`;
  const what: Record<RmcpAuthError['kind'], string> = {
    'bad-password': `wrong BMC password: not retried (a BMC locks a user out after a few failed logins) until the host's BMC credentials change in the store, or ${when}`,
    'refused-name-or-privilege': `the BMC refused the user name or privilege (unknown, disabled or locked-out user, or too low a privilege): not retried until the host's BMC credentials change in the store, or ${when}`,
    'locked-out': `the BMC user is locked out${err.retryAfterMs !== undefined ? ` for ${seconds(err.retryAfterMs)}` : ''}: next attempt ${when}`,
    throttled: `the BMC is throttling logins${err.retryAfterMs !== undefined ? ` for ${seconds(err.retryAfterMs)}` : ''}: next attempt ${when}`,
  };
  return { untilMs, message: `${what[err.kind]} [${err.message}]` };
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

export interface CredentialsWait {
  untilMs: number;
  /** What the refused login used (compared, never logged). */
  refused: string | undefined;
  /** The host's credentials as stored now. */
  current: () => Promise<string | undefined>;
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  stopped: () => boolean;
}

/** Waits until `untilMs`, or until the stored credentials differ from the refused ones (checked every 2 s); true if they changed. */
export async function waitForOtherCredentials(w: CredentialsWait): Promise<boolean> {
  while (!w.stopped() && w.clock() < w.untilMs) {
    await w.sleep(Math.min(2_000, w.untilMs - w.clock()));
    const now = await w.current().catch(() => w.refused);
    if (now !== w.refused) return true;
  }
  return false;
}
