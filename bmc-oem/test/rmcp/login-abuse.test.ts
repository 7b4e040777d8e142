/**
 * Issue 13 (BMC login abuse), each attack reproduced in process with a fake
 * clock and shown refused:
 * - wrong passwords from one source slow that source down (growing delay)
 *   and never lock out the right password from another source;
 * - collecting RAKP 2 HMACs by abandoning handshakes is throttled the same way;
 * - a USER-level account cannot fill the session table, nor one source;
 * - an unknown name and a refused privilege get the same RAKP 2 answer.
 */
import { RmcpStatus } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { openConsoleSession, type HandshakeResult } from './helpers/in-process-console.js';
import { serverFixture } from './helpers/server-fixture.js';

const NAME_ONLY = 0x10;

/** Where a handshake ended ('ok' when it completed). */
function stage(r: HandshakeResult): string {
  return r.ok ? 'ok' : r.stage;
}
const ATTACKER = '192.0.2.66:40001';
const MANAGER = '192.0.2.10:40002';

describe('login abuse (issue 13 item 2)', () => {
  it('wrong passwords slow down the guessing source with a doubling delay; the right password from elsewhere always works', async () => {
    const { server, clock, throttleStarts, throttled } = serverFixture({ throttle: { freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 8000 } });
    const guess = () => openConsoleSession(server, { suite: 17, user: 'oper', password: 'guess', role: 3 | NAME_ONLY, peer: ATTACKER });
    // Three failures are free.
    for (let i = 0; i < 3; i++) expect((await guess()).ok).toBe(false);
    expect(throttleStarts).toEqual([]);
    // The fourth starts the delays: 1 s.
    expect(await guess()).toEqual({ ok: false, stage: 'rakp2-hmac', status: RmcpStatus.INVALID_INTEGRITY_CHECK_VALUE });
    expect(throttleStarts).toEqual(['oper@192.0.2.66 after 4: 1000 ms']);
    // While it waits, the attacker gets "try later" before any RAKP 2 HMAC is sent.
    expect(await guess()).toEqual({ ok: false, stage: 'rakp2', status: RmcpStatus.INSUFFICIENT_RESOURCES });
    expect(throttled).toEqual(['oper@192.0.2.66:40001']);
    // The manager, from its own address, logs in with the right password at once.
    const manager = await openConsoleSession(server, { suite: 17, user: 'oper', password: 'oper-pw', role: 3 | NAME_ONLY, peer: MANAGER });
    expect(manager.ok).toBe(true);
    // The delay doubles with each further failure, up to the maximum.
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      let waited = 0;
      while (stage(await guess()) === 'rakp2') {
        clock.advance(500);
        waited += 500;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
    // Still no effect on anyone else.
    expect((await openConsoleSession(server, { suite: 3, user: 'oper', password: 'oper-pw', role: 3 | NAME_ONLY, peer: MANAGER })).ok).toBe(true);
    expect((await openConsoleSession(server, { suite: 3, user: 'admin', password: 'admin-pw', role: 4 | NAME_ONLY, peer: ATTACKER })).ok).toBe(true);
  });

  it('a login that succeeds from the source forgives its failures; so does time', async () => {
    const { server, clock } = serverFixture({ throttle: { freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 60_000, forgetAfterMs: 60_000 } });
    const from = (password: string) => openConsoleSession(server, { suite: 17, user: 'viewer', password, role: 2 | NAME_ONLY, peer: ATTACKER });
    for (let i = 0; i < 2; i++) await from('typo');
    expect((await from('viewer-pw')).ok).toBe(true);
    for (let i = 0; i < 2; i++) expect(stage(await from('typo'))).toBe('rakp2-hmac'); // free again
    expect(stage(await from('typo'))).toBe('rakp2-hmac'); // third: delay starts
    expect(stage(await from('viewer-pw'))).toBe('rakp2'); // must wait
    clock.advance(60_000);
    expect((await from('viewer-pw')).ok).toBe(true);
  });

  it('collecting RAKP 2 HMACs by abandoning handshakes is throttled too (they count when evicted or expired)', async () => {
    const { server, clock } = serverFixture({ sessions: { perSourcePending: 2 }, throttle: { freeFailures: 3 } });
    let hmacs = 0;
    for (let i = 0; i < 20; i++) {
      const r = await openConsoleSession(server, { suite: 17, user: 'admin', password: 'x', role: 4 | NAME_ONLY, peer: ATTACKER, abandonAfterRakp2: true });
      if (stage(r) === 'abandoned') hmacs++;
    }
    // Each new handshake evicts the source's own oldest; the evicted ones count as failures.
    expect(hmacs).toBe(5);
    clock.advance(5000);
    server.sweep();
    expect((await openConsoleSession(server, { suite: 17, user: 'admin', password: 'admin-pw', role: 4 | NAME_ONLY, peer: MANAGER })).ok).toBe(true);
  });

  it('an unknown name and a refused privilege answer alike, with the code pyghmi falls back on (0x0D)', async () => {
    const { server } = serverFixture();
    const unknown = await openConsoleSession(server, { suite: 17, user: 'nobody', password: 'x', role: 4 | NAME_ONLY });
    const tooHigh = await openConsoleSession(server, { suite: 17, user: 'viewer', password: 'viewer-pw', role: 4 | NAME_ONLY });
    expect(unknown).toEqual({ ok: false, stage: 'rakp2', status: 0x0d });
    expect(tooHigh).toEqual(unknown);
  });

  it('a disabled user is refused with the same code', async () => {
    const { server, users } = serverFixture();
    const id = users.lookup('oper')?.id ?? 0;
    expect(users.setEnabled(id, false)).toBe('ok');
    expect(await openConsoleSession(server, { suite: 17, user: 'oper', password: 'oper-pw', role: 3 | NAME_ONLY })).toEqual({ ok: false, stage: 'rakp2', status: 0x0d });
  });
});

describe('session table abuse (issue 13 item 4)', () => {
  it('a USER-level account cannot fill the session table: it stops at sessions.perUser and an operator still logs in', async () => {
    const { server, limits } = serverFixture({ sessions: { max: 64, maxPending: 16, perUser: 5, perSource: 64, perSourcePending: 8 } });
    let opened = 0;
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      // From many addresses, so only the per-user bound can stop it.
      const r = await openConsoleSession(server, { suite: 17, user: 'viewer', password: 'viewer-pw', role: 2 | NAME_ONLY, peer: `198.51.100.${i + 1}:623` });
      if (r.ok) opened++;
      else {
        expect(r).toEqual({ ok: false, stage: 'rakp2', status: RmcpStatus.INSUFFICIENT_RESOURCES });
        refused++;
      }
    }
    expect(opened).toBe(5);
    expect(refused).toBe(35);
    expect(limits.filter((l) => l === 'user:viewer')).toHaveLength(35);
    expect(server.sessions.size).toBe(5);
    expect((await openConsoleSession(server, { suite: 17, user: 'oper', password: 'oper-pw', role: 3 | NAME_ONLY, peer: MANAGER })).ok).toBe(true);
  });

  it('one source cannot fill the table either (sessions.perSource), whatever names it uses', async () => {
    const { server } = serverFixture({ sessions: { max: 64, maxPending: 16, perUser: 64, perSource: 4, perSourcePending: 4 } });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await openConsoleSession(server, { suite: 17, user: i % 2 === 0 ? 'viewer' : 'oper', password: i % 2 === 0 ? 'viewer-pw' : 'oper-pw', role: 2 | NAME_ONLY, peer: `${ATTACKER.split(':')[0]}:${5000 + i}` }));
    expect(results.filter((r) => r.ok)).toHaveLength(4);
    expect(results.slice(4)).toEqual([
      { ok: false, stage: 'open', status: RmcpStatus.INSUFFICIENT_RESOURCES },
      { ok: false, stage: 'open', status: RmcpStatus.INSUFFICIENT_RESOURCES },
    ]);
    expect((await openConsoleSession(server, { suite: 17, user: 'admin', password: 'admin-pw', role: 4 | NAME_ONLY, peer: MANAGER })).ok).toBe(true);
  });
});
