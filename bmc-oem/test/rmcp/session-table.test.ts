import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../src/rmcp/session-table.js';

const algorithms = { suite: 17, auth: 3, integrity: 4, confidentiality: 1 };
const guid = new Uint8Array(16);

function setup(limits = { max: 4, maxPending: 2, setupTimeoutMs: 1000, idleTimeoutMs: 5000, perUser: 64, perSource: 64, perSourcePending: 64 }, rnd = (n: number) => new Uint8Array(randomBytes(n))) {
  let t = 0;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  return { clock, table: new SessionTable(limits, clock.now, rnd) };
}

function open(table: SessionTable, consoleId = 0xa0a2a3a4) {
  const r = table.create({ consoleId, peer: '127.0.0.1:1', algorithms, openPrivilege: 0, guid }, 2);
  if (!r.ok) throw new Error(r.reason);
  return r.session;
}

describe('SessionTable', () => {
  it('draws random non-zero, unique session ids from the injected source', () => {
    // A source that first yields zero, then a repeat, then fresh ids.
    const draws = [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0];
    let i = 0;
    const { table } = setup(undefined, (n) => Uint8Array.from(draws.slice(i, (i += n))));
    expect(open(table).id).toBe(1);
    expect(open(table).id).toBe(2);
  });

  it('bounds sessions in setup separately from the total', () => {
    const { table } = setup();
    const a = open(table);
    open(table);
    expect(table.create({ consoleId: 1, peer: 'x', algorithms, openPrivilege: 0, guid }, 2)).toEqual({ ok: false, reason: 'too-many-pending' });
    table.activate(a);
    table.activate(open(table));
    const d = open(table);
    table.activate(d);
    expect(table.size).toBe(4);
    expect(table.create({ consoleId: 1, peer: 'x', algorithms, openPrivilege: 0, guid }, 2)).toEqual({ ok: false, reason: 'table-full' });
  });

  it('expires a handshake after the setup timeout and an idle session after the idle timeout', () => {
    const { clock, table } = setup();
    const pending = open(table);
    const active = open(table);
    table.activate(active);
    clock.advance(999);
    expect(table.expire()).toEqual([]);
    clock.advance(1);
    expect(table.expire().map((e) => [e.session.id, e.why])).toEqual([[pending.id, 'setup-timeout']]);
    expect(table.pendingCount).toBe(0);
    clock.advance(3000);
    table.touch(active);
    clock.advance(4999);
    expect(table.expire()).toEqual([]);
    clock.advance(1);
    expect(table.expire().map((e) => e.why)).toEqual(['idle-timeout']);
    expect(table.size).toBe(0);
  });

  it('wipes keys when a session is removed', () => {
    const { table } = setup();
    const s = open(table);
    s.keys = { sik: Uint8Array.of(1, 2), k1: Uint8Array.of(3), k2: Uint8Array.of(4) };
    const keys = s.keys;
    table.remove(s.id);
    expect([...keys.sik, ...keys.k1, ...keys.k2]).toEqual([0, 0, 0, 0]);
    expect(table.get(s.id)).toBeUndefined();
    expect(table.remove(s.id)).toBeUndefined();
  });
});
