/**
 * Rate limiting of RAKP authentication per user name: `maxFailures` failed
 * attempts within `windowMs` lock the name for `lockoutMs`. While locked,
 * RAKP 1 for that name is refused before any RAKP 2 (which would carry an
 * HMAC of the password an attacker could attack offline) is sent.
 * Only configured names are tracked, so unknown names cannot grow the map.
 */
import type { LockoutConfig } from '../config/config-types.js';

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class RakpLockout {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly cfg: LockoutConfig,
    private readonly now: () => number,
    private readonly tracked: ReadonlySet<string>,
  ) {}

  isLocked(user: string): boolean {
    const e = this.entries.get(user);
    return e !== undefined && e.lockedUntil > this.now();
  }

  /** Remaining lockout in ms (0 if not locked). */
  lockedFor(user: string): number {
    const e = this.entries.get(user);
    return e === undefined ? 0 : Math.max(0, e.lockedUntil - this.now());
  }

  /** Records a failed attempt; returns true if this failure locked the user. */
  recordFailure(user: string): boolean {
    if (!this.tracked.has(user)) return false;
    const t = this.now();
    let e = this.entries.get(user);
    if (e === undefined) {
      e = { failures: [], lockedUntil: 0 };
      this.entries.set(user, e);
    }
    if (e.lockedUntil > t) return false;
    e.failures = e.failures.filter((f) => t - f < this.cfg.windowMs);
    e.failures.push(t);
    if (e.failures.length >= this.cfg.maxFailures) {
      e.failures = [];
      e.lockedUntil = t + this.cfg.lockoutMs;
      return true;
    }
    return false;
  }

  /** A completed authentication clears the user's failure count. */
  recordSuccess(user: string): void {
    const e = this.entries.get(user);
    if (e !== undefined && e.lockedUntil <= this.now()) this.entries.delete(user);
  }

  lockedUsers(): string[] {
    const t = this.now();
    return [...this.entries].filter(([, e]) => e.lockedUntil > t).map(([u]) => u);
  }
}
