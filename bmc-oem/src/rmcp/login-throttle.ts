/**
 * Slows down whoever keeps failing to log in, without locking anyone else
 * out (issue 13, "BMC login abuse"). Failures are counted per (source
 * address, user name): the first `freeFailures` cost nothing; after that
 * each further failure makes that source wait `baseDelayMs`, doubling per
 * failure up to `maxDelayMs`, before it may try that name again. While it
 * waits, RAKP 1 from that source for that name is refused before any RAKP 2
 * (whose HMAC an attacker could attack offline) is sent. A login that
 * succeeds from the source clears its count; `forgetAfterMs` without a
 * failure forgets it too.
 *
 * There is no lock on the name itself: a client presenting the right
 * password from another address is never delayed, whatever an attacker
 * does. (RAKP cannot tell a right password from a wrong one before it has
 * sent RAKP 2, so a name-wide lock would have to turn the right password
 * away too; that is exactly the denial of service this replaces.)
 *
 * The table is bounded: beyond `maxEntries` the entry idle longest goes.
 * Clock injected; nothing here does IO.
 */
import type { LoginThrottleConfig } from '../config/config-types.js';

interface Entry {
  failures: number;
  lastFailure: number;
  /** Time before which this source may not try this name again. */
  blockedUntil: number;
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number; failures: number };

export interface FailureOutcome {
  failures: number;
  /** The wait now imposed (0 while the failures are still free). */
  delayMs: number;
  /** True when this failure is the one that started the delays (the moment worth an audit record). */
  startedThrottling: boolean;
}

export const DEFAULT_THROTTLE_ENTRIES = 4096;

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly cfg: LoginThrottleConfig,
    private readonly now: () => number,
    private readonly maxEntries = DEFAULT_THROTTLE_ENTRIES,
  ) {}

  private static key(source: string, user: string): string {
    // A NUL cannot occur in a user name (printable ASCII) nor in an address.
    return `${source}\u0000${user}`;
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (this.now() - e.lastFailure >= this.cfg.forgetAfterMs && this.now() >= e.blockedUntil) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** May `source` try to log in as `user` now? */
  check(source: string, user: string): ThrottleVerdict {
    const e = this.live(LoginThrottle.key(source, user));
    if (e === undefined) return { allowed: true };
    const wait = e.blockedUntil - this.now();
    return wait > 0 ? { allowed: false, retryAfterMs: wait, failures: e.failures } : { allowed: true };
  }

  /** The wait after `failures` failures. */
  delayAfter(failures: number): number {
    const over = failures - this.cfg.freeFailures;
    if (over <= 0) return 0;
    // 2^30 ms is already 12 days; stop doubling long before the number overflows.
    return Math.min(this.cfg.maxDelayMs, this.cfg.baseDelayMs * 2 ** Math.min(over - 1, 30));
  }

  recordFailure(source: string, user: string): FailureOutcome {
    const key = LoginThrottle.key(source, user);
    const t = this.now();
    let e = this.live(key);
    if (e === undefined) {
      e = { failures: 0, lastFailure: t, blockedUntil: 0 };
    } else {
      this.entries.delete(key); // re-inserted below: Map order is then "least recently failed first"
    }
    e.failures++;
    e.lastFailure = t;
    const delayMs = this.delayAfter(e.failures);
    e.blockedUntil = Math.max(e.blockedUntil, t + delayMs);
    this.entries.set(key, e);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return { failures: e.failures, delayMs, startedThrottling: delayMs > 0 && e.failures === this.cfg.freeFailures + 1 };
  }

  /** A completed login from `source` as `user` forgives that source's failures for that name. */
  recordSuccess(source: string, user: string): void {
    this.entries.delete(LoginThrottle.key(source, user));
  }

  /** Sources currently made to wait, for metrics and tests. */
  throttledCount(): number {
    const t = this.now();
    let n = 0;
    for (const e of this.entries.values()) if (e.blockedUntil > t) n++;
    return n;
  }

  get size(): number {
    return this.entries.size;
  }
}
