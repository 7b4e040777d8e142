// dispatchNow: the registry's synchronous path (the RMCP+ server answers in
// the same turn when it can). Same rules and results as dispatch; a promise
// only when the handler returned one.
import { describe, expect, it } from 'vitest';
import { CommandRegistry, type DispatchOutcome } from '../../src/commands/registry.js';
import { Privilege } from '../../src/commands/privilege.js';
import type { CommandContext, SessionControl } from '../../src/commands/command-types.js';

const session: SessionControl = { id: 1, handle: 1, userId: 2, userName: 'u', maxPrivilege: Privilege.Operator, setPrivilege: () => undefined, closeAfterResponse: () => undefined };
const lan = (privilege: CommandContext['privilege'], withSession = true): CommandContext => ({ channel: 'lan', privilege, lun: 0, ...(withSession ? { session } : {}) });
const IANA = 0x007ed9;

function registry(faults: string[]): CommandRegistry {
  const r = new CommandRegistry();
  r.onHandlerFault((name) => faults.push(name));
  r.register({ name: 'echo', netfn: 0x06, cmd: 0x01, privilege: Privilege.User, channel: 'both', handler: (_c, d) => ({ cc: 0, data: d }) });
  r.register({ name: 'op-only', netfn: 0x00, cmd: 0x02, privilege: Privilege.Operator, channel: 'lan', handler: () => ({ cc: 0 }) });
  r.register({ name: 'oem', netfn: 0x2e, cmd: 0x00, iana: IANA, privilege: Privilege.User, channel: 'both', handler: (_c, d) => ({ cc: 0, data: Uint8Array.of(0xaa, ...d) }) });
  r.register({ name: 'boom', netfn: 0x30, cmd: 0x01, privilege: Privilege.User, channel: 'both', handler: () => { throw new Error('bug'); } });
  r.register({ name: 'async', netfn: 0x30, cmd: 0x02, privilege: Privilege.User, channel: 'both', handler: async (_c, d) => ({ cc: 0, data: d }) });
  r.register({ name: 'reject', netfn: 0x30, cmd: 0x03, privilege: Privilege.User, channel: 'both', handler: async () => Promise.reject(new Error('later bug')) });
  r.register({ name: 'bad-cc', netfn: 0x30, cmd: 0x04, privilege: Privilege.User, channel: 'both', handler: () => ({ cc: 0x1ff }) });
  r.register({ name: 'thenable', netfn: 0x30, cmd: 0x05, privilege: Privilege.User, channel: 'both', handler: () => ({ then: (ok: (r: { cc: number }) => void) => ok({ cc: 0xd5 }) }) as never });
  return r;
}

const req = (netfn: number, cmd: number, ...data: number[]) => ({ netfn, cmd, data: Uint8Array.from(data) });

describe('CommandRegistry.dispatchNow', () => {
  it('answers synchronously for synchronous handlers and for refusals', () => {
    const r = registry([]);
    const sync = (out: DispatchOutcome | Promise<DispatchOutcome>): DispatchOutcome => {
      expect(out).not.toBeInstanceOf(Promise);
      return out as DispatchOutcome;
    };
    expect(sync(r.dispatchNow(lan(Privilege.User), req(0x06, 0x01, 1, 2)))).toEqual({ cc: 0, data: Uint8Array.of(1, 2), name: 'echo' });
    expect(sync(r.dispatchNow(lan(Privilege.User), req(0x00, 0x02))).cc).toBe(0xd4);
    expect(sync(r.dispatchNow(lan(Privilege.User), req(0x06, 0x99))).cc).toBe(0xc1);
    expect(sync(r.dispatchNow(lan(Privilege.User, false), req(0x06, 0x01))).cc).toBe(0xd4);
    expect(sync(r.dispatchNow(lan(Privilege.User), req(0x2e, 0x00, 0xd9, 0x7e, 0x00, 5)))).toEqual({ cc: 0, data: Uint8Array.of(0xd9, 0x7e, 0x00, 0xaa, 5), name: 'oem' });
    expect(sync(r.dispatchNow(lan(Privilege.User), req(0x30, 0x04))).cc).toBe(0xff);
  });

  it('turns a throwing handler into 0xFF at once and a rejecting one into 0xFF later, telling the listener both times', async () => {
    const faults: string[] = [];
    const r = registry(faults);
    const thrown = r.dispatchNow(lan(Privilege.User), req(0x30, 0x01));
    expect(thrown).toEqual({ cc: 0xff, data: new Uint8Array(0), name: 'boom' });
    const rejected = r.dispatchNow(lan(Privilege.User), req(0x30, 0x03));
    expect(rejected).toBeInstanceOf(Promise);
    expect(await rejected).toEqual({ cc: 0xff, data: new Uint8Array(0), name: 'reject' });
    expect(faults).toEqual(['boom', 'reject']);
  });

  it('returns a promise for asynchronous handlers and thenables, with the same result dispatch gives', async () => {
    const r = registry([]);
    for (const [netfn, cmd, ...data] of [
      [0x30, 0x02, 9, 8],
      [0x30, 0x05],
      [0x06, 0x01, 3],
      [0x2e, 0x00, 0xd9, 0x7e, 0x00],
      [0x2e, 0x00, 0x01, 0x02, 0x03],
      [0x2e, 0x01],
    ] as const) {
      const now = r.dispatchNow(lan(Privilege.Operator), req(netfn, cmd, ...data));
      const later = await r.dispatch(lan(Privilege.Operator), req(netfn, cmd, ...data));
      expect(await now).toEqual(later);
    }
    expect(r.dispatchNow(lan(Privilege.User), req(0x30, 0x02))).toBeInstanceOf(Promise);
    expect((await r.dispatchNow(lan(Privilege.User), req(0x30, 0x05))).cc).toBe(0xd5);
  });
});
