// After the BMC refused the link's credentials: how long it waits, and what lastError says.
import { describe, expect, it } from 'vitest';
import { authHold, DEFAULT_AUTH_RETRY } from '../../src/link/auth-hold.js';
import { RmcpAuthError } from '../../src/rmcp/errors.js';

const NOW = Date.UTC(2026, 11, 3, 7, 0, 0);

describe('authHold', () => {
  it('a wrong password waits for new credentials (or ten minutes), and says so', () => {
    const h = authHold(new RmcpAuthError('bad-password', 'RAKP 2 does not verify'), NOW);
    expect(h.untilMs).toBe(NOW + DEFAULT_AUTH_RETRY.badCredentialsMs);
    expect(h.message).toMatch(/^wrong BMC password: not retried .*credentials change in the store, or 2026-12-03T07:10:00.000Z \(in 10 min\) \[RAKP 2 does not verify\]$/);
  });

  it('a lockout or throttle is waited out for as long as the BMC said, and the message says how long', () => {
    const locked = authHold(new RmcpAuthError('locked-out', 'locked', { retryAfterMs: 300_000 }), NOW);
    expect(locked.untilMs).toBe(NOW + 300_000);
    expect(locked.message).toMatch(/^the BMC user is locked out for 5 min: next attempt 2026-12-03T07:05:00.000Z/);
    const throttled = authHold(new RmcpAuthError('throttled', 'slow down', { retryAfterMs: 8_000 }), NOW);
    expect(throttled.untilMs).toBe(NOW + 8_000);
    expect(throttled.message).toMatch(/throttling logins for 8 s: next attempt .* \(in 8 s\)/);
  });

  it('without a figure from the BMC, waits the policy default; never less than a second', () => {
    expect(authHold(new RmcpAuthError('locked-out', 'x'), NOW).untilMs).toBe(NOW + DEFAULT_AUTH_RETRY.lockedOutMs);
    expect(authHold(new RmcpAuthError('throttled', 'x', { retryAfterMs: 0 }), NOW).untilMs).toBe(NOW + 1_000);
    expect(authHold(new RmcpAuthError('refused-name-or-privilege', 'x'), NOW).message).toMatch(/refused the user name or privilege/);
  });
});
