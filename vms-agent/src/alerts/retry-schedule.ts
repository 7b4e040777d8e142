/**
 * When a failed delivery is tried again: exponential back-off with jitter,
 * and after how many attempts it becomes a dead letter. Pure (the random
 * number is a parameter) so the schedule is tested without sleeping.
 *
 * The delay after the n-th failed attempt is base·2^(n-1), capped at max,
 * then scaled by a random factor in [0.5, 1) ("equal jitter"): sinks that
 * came back are not hit by every vms-agent replica at the same instant,
 * and a delay is never less than half its nominal value.
 */
export interface RetryPolicy {
  /** Attempts before a delivery is dead (≥ 1). */
  maxAttempts: number;
  /** Delay after the first failure, ms. */
  baseMs: number;
  /** Longest delay, ms. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 12, baseMs: 1000, maxMs: 300_000 });

export type RetryDecision = { dead: true } | { dead: false; nextAttemptAtMs: number };

/** What to do after `attempts` attempts (this one included) have failed, at `nowMs`; `random` in [0, 1). */
export function afterFailure(policy: RetryPolicy, attempts: number, nowMs: number, random: number): RetryDecision {
  if (attempts >= policy.maxAttempts) return { dead: true };
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempts - 1, 52));
  return { dead: false, nextAttemptAtMs: nowMs + Math.round(nominal * (0.5 + 0.5 * random)) };
}
