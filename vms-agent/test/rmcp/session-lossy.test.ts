// The session driver (session.ts + session-state.ts + rtt-estimator.ts) under
// simulated time, across a seeded lossy network to an in-process BMC: the
// retransmission and liveness rules of docs/rmcp.md "Retransmission", with
// the default settings openSession uses.
import { randomBytes } from 'node:crypto';
import type { SessionCrypto } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { isRmcpError } from '../../src/rmcp/errors.js';
import { DEFAULT_RTO_BOUNDS, RttEstimator } from '../../src/rmcp/rtt-estimator.js';
import { RmcpSession } from '../../src/rmcp/session.js';
import { SessionState } from '../../src/rmcp/session-state.js';
import { CLEAN, LOSSY, ManualClock, type NetworkFaults, seededRandom, SimulatedBmcLink } from './simulated-bmc-link.js';

const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const crypto: SessionCrypto = { integrityAlgorithm: 4, confidentialityAlgorithm: 1, k1: rng(32), k2: rng(32) };
const ids = { bmc: 0x1234, console: 0xabcd };
/** openSession's defaults: timeoutMs 1000 × (retries 3 + 1). */
const DEFAULT_GIVE_UP_MS = 4000;

function setup(faults: NetworkFaults, seed: number, rtt = new RttEstimator(DEFAULT_RTO_BOUNDS)) {
  const clock = new ManualClock();
  const link = new SimulatedBmcLink(clock, crypto, ids, seededRandom(seed), faults, rng);
  const state = new SessionState({ crypto, bmcSessionId: ids.bmc, consoleSessionId: ids.console, randomBytes: rng, rtt, giveUpMs: DEFAULT_GIVE_UP_MS, now: clock.now() });
  const session = new RmcpSession({ host: 'sim', port: 623, cipherSuite: 17, privilege: 3, bmcSessionId: ids.bmc, consoleSessionId: ids.console }, link, state, clock, {
    keepAliveMs: 30_000,
    closeTimeoutMs: 1000,
    giveUpMs: DEFAULT_GIVE_UP_MS,
  });
  return { clock, link, state, session };
}

/** One request at a time, as a host link makes them; returns how many failed. */
async function drive(clock: ManualClock, session: RmcpSession, n: number): Promise<{ failed: number; elapsedMs: number }> {
  let failed = 0;
  const t0 = clock.now();
  for (let i = 0; i < n; i++) {
    const answer = session.request(0x2e, 0x02, new Uint8Array([i & 0xff]));
    let ok = false;
    answer.then(
      (r) => {
        ok = r.data[0] === (i & 0xff);
      },
      () => undefined,
    );
    const settled = await clock.runUntil(answer, 60_000);
    if (!settled || !ok) failed++;
  }
  return { failed, elapsedMs: clock.now() - t0 };
}

describe('RMCP+ session on a lossy link (simulated time)', () => {
  it('with the defaults, 20% loss / 5% duplication / reordering each way: every request answered, none given up, the session stays up', async () => {
    const { clock, link, session } = setup(LOSSY, 20_260_101);
    const { failed } = await drive(clock, session, 1000);
    expect(failed).toBe(0);
    expect(session.state).toBe('open');
    expect(session.counters.expired).toBe(0);
    // The link really was lossy, and lost requests were resent.
    expect(link.stats.dropped).toBeGreaterThan(300);
    expect(session.counters.retransmitted).toBeGreaterThan(200);
    // The RTO learnt the ~1-2 ms round trips (jittered by the delayed and held-back datagrams), far below the 1 s initial value.
    const rt = session.roundTrip;
    expect(rt.samples).toBeGreaterThan(400);
    expect(rt.srttMs).toBeLessThan(10);
    expect(rt.rtoMs).toBeGreaterThanOrEqual(DEFAULT_RTO_BOUNDS.minRtoMs);
    expect(rt.rtoMs).toBeLessThan(DEFAULT_RTO_BOUNDS.initialRtoMs);
    expect(await clock.runUntil(session.close(), 2000)).toBe(true);
  });

  it('on a clean link nothing is retransmitted once the round trip is measured', async () => {
    const { clock, session } = setup(CLEAN, 7);
    expect((await drive(clock, session, 200)).failed).toBe(0);
    expect(session.counters.retransmitted).toBe(0);
    expect(session.roundTrip.rtoMs).toBe(DEFAULT_RTO_BOUNDS.minRtoMs);
    expect(await clock.runUntil(session.close(), 2000)).toBe(true);
  });

  it('a burst of lost datagrams delays a request; it does not end the session', async () => {
    const { clock, link, session } = setup(CLEAN, 9);
    await drive(clock, session, 20);
    link.faults = { ...CLEAN, drop: 1 };
    const [reachedBefore, droppedBefore] = [link.stats.requests, link.stats.dropped];
    const answer = session.request(6, 1);
    // 1.5 s of total loss: from a 20 ms RTO that is 10 sends, more than the old 3 retries allowed.
    await clock.advance(1500);
    const reachedDuringOutage = link.stats.requests - reachedBefore;
    link.faults = CLEAN;
    expect(await clock.runUntil(answer, 2000)).toBe(true);
    await expect(answer).resolves.toMatchObject({ cc: 0 });
    expect(session.state).toBe('open');
    expect(reachedDuringOutage).toBe(0);
    expect(link.stats.dropped - droppedBefore).toBeGreaterThanOrEqual(7);
  });

  it('a BMC that goes silent: the request is resent on the backed-off RTO, fails after giveUpMs of silence, and the session ends', async () => {
    const { clock, link, session } = setup(CLEAN, 11);
    await drive(clock, session, 20);
    link.silent = true;
    const before = link.stats.requests;
    const t0 = clock.now();
    const answer = session.request(6, 1);
    let failedAt = -1;
    answer.catch(() => (failedAt = clock.now()));
    await clock.runUntil(answer, 10_000);
    await expect(answer).rejects.toMatchObject({ code: 'ERR_RMCP_TIMEOUT' });
    expect(failedAt - t0).toBe(DEFAULT_GIVE_UP_MS);
    // Sent at 0, 20, 40, 60 (linear), 80, 120, 200, 360, 680 (backing off), then every 500 ms (maxRtoMs) until 4000: 15 sends, not the old 4.
    expect(link.stats.requests - before).toBe(15);
    const reason = await session.done;
    expect(isRmcpError(reason, 'ERR_RMCP_SESSION_CLOSED')).toBe(true);
    expect(reason?.message).toMatch(/nothing heard for 4000 ms/);
    expect(session.state).toBe('closed');
    await expect(session.request(6, 1)).rejects.toMatchObject({ code: 'ERR_RMCP_SESSION_CLOSED' });
  });
});
