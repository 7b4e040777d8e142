import { describe, expect, it } from 'vitest';
import { CommandRegistry } from '../../src/commands/registry.js';
import { Privilege } from '../../src/commands/privilege.js';
import type { CommandContext, SessionControl } from '../../src/commands/command-types.js';

const session: SessionControl = { id: 1, handle: 1, userId: 2, userName: 'u', maxPrivilege: Privilege.Operator, setPrivilege: () => undefined, closeAfterResponse: () => undefined };
const lan = (privilege: CommandContext['privilege'], withSession = true): CommandContext => ({ channel: 'lan', privilege, lun: 0, ...(withSession ? { session } : {}) });
const system: CommandContext = { channel: 'system', privilege: Privilege.Administrator, lun: 0 };
const IANA = 0x007ed9;

function registry(): CommandRegistry {
  const r = new CommandRegistry();
  r.register({ name: 'echo', netfn: 0x06, cmd: 0x01, privilege: Privilege.User, channel: 'both', handler: (_c, d) => ({ cc: 0, data: d }) });
  r.register({ name: 'op-only', netfn: 0x00, cmd: 0x02, privilege: Privilege.Operator, channel: 'lan', handler: () => ({ cc: 0 }) });
  r.register({ name: 'pre', netfn: 0x06, cmd: 0x38, privilege: Privilege.Callback, channel: 'lan', preSession: true, handler: () => ({ cc: 0, data: Uint8Array.of(1) }) });
  r.register({ name: 'sys', netfn: 0x06, cmd: 0x31, privilege: Privilege.Administrator, channel: 'system', handler: () => ({ cc: 0, data: Uint8Array.of(0x20) }) });
  r.register({ name: 'oem', netfn: 0x2e, cmd: 0x00, iana: IANA, privilege: Privilege.Operator, channel: 'both', handler: (_c, d) => ({ cc: d.length === 1 ? 0 : 0xc7, data: Uint8Array.of(0xaa, ...d) }) });
  r.register({ name: 'boom', netfn: 0x30, cmd: 0x01, privilege: Privilege.User, channel: 'both', handler: () => { throw new Error('bug'); } });
  r.register({ name: 'async', netfn: 0x30, cmd: 0x02, privilege: Privilege.User, channel: 'both', handler: async () => ({ cc: 0, data: Uint8Array.of(7) }) });
  return r;
}

const req = (netfn: number, cmd: number, ...data: number[]) => ({ netfn, cmd, data: Uint8Array.from(data) });

describe('CommandRegistry', () => {
  it('dispatches by (netfn, cmd) and passes data through', async () => {
    const out = await registry().dispatch(lan(Privilege.User), req(0x06, 0x01, 1, 2));
    expect(out).toEqual({ cc: 0, data: Uint8Array.of(1, 2), name: 'echo' });
  });

  it('answers 0xC1 for unknown commands and for commands of the other side', async () => {
    const r = registry();
    expect((await r.dispatch(lan(Privilege.Administrator), req(0x06, 0x99))).cc).toBe(0xc1);
    expect((await r.dispatch(lan(Privilege.Administrator), req(0x06, 0x31))).cc).toBe(0xc1);
    expect((await r.dispatch(system, req(0x00, 0x02))).cc).toBe(0xc1);
    expect((await r.dispatch(system, req(0x06, 0x31))).data).toEqual(Uint8Array.of(0x20));
  });

  it('enforces the LAN privilege, and only pre-session commands outside a session', async () => {
    const r = registry();
    expect((await r.dispatch(lan(Privilege.User), req(0x00, 0x02))).cc).toBe(0xd4);
    expect((await r.dispatch(lan(Privilege.Operator), req(0x00, 0x02))).cc).toBe(0);
    expect((await r.dispatch(lan(Privilege.Callback, false), req(0x06, 0x01))).cc).toBe(0xd4);
    expect((await r.dispatch(lan(Privilege.Callback, false), req(0x06, 0x38))).cc).toBe(0);
    // The system side is trusted like the local console: no privilege check.
    expect((await r.dispatch(system, req(0x06, 0x01, 9))).cc).toBe(0);
  });

  it('keys OEM/Group commands by IANA: strips it for the handler, puts it back in every response', async () => {
    const r = registry();
    expect(await r.dispatch(lan(Privilege.Operator), req(0x2e, 0x00, 0xd9, 0x7e, 0x00, 0x01))).toEqual({ cc: 0, data: Uint8Array.of(0xd9, 0x7e, 0x00, 0xaa, 0x01), name: 'oem' });
    expect((await r.dispatch(lan(Privilege.Operator), req(0x2e, 0x00, 0xd9, 0x7e, 0x00, 0x01, 0x02))).data).toEqual(Uint8Array.of(0xd9, 0x7e, 0x00, 0xaa, 0x01, 0x02));
    const wrongIana = await r.dispatch(lan(Privilege.Operator), req(0x2e, 0x00, 0x01, 0x02, 0x03, 0x01));
    expect(wrongIana.cc).toBe(0xcc);
    expect(wrongIana.data).toEqual(Uint8Array.of(0x01, 0x02, 0x03));
    expect((await r.dispatch(lan(Privilege.Operator), req(0x2e, 0x00, 0xd9))).cc).toBe(0xc7);
    expect((await r.dispatch(lan(Privilege.Operator), req(0x2e, 0x07, 0xd9, 0x7e, 0x00))).cc).toBe(0xc1);
    const low = await r.dispatch(lan(Privilege.User), req(0x2e, 0x00, 0xd9, 0x7e, 0x00, 0x01));
    expect(low).toEqual({ cc: 0xd4, data: Uint8Array.of(0xd9, 0x7e, 0x00), name: 'oem' });
  });

  it('turns a throwing handler into cc 0xFF and reports it; awaits async handlers', async () => {
    const r = registry();
    const faults: string[] = [];
    r.onHandlerFault((name, err) => faults.push(`${name}: ${(err as Error).message}`));
    expect((await r.dispatch(system, req(0x30, 0x01))).cc).toBe(0xff);
    expect(faults).toEqual(['boom: bug']);
    expect((await r.dispatch(system, req(0x30, 0x02))).data).toEqual(Uint8Array.of(7));
  });

  it('refuses bad registrations', () => {
    const r = registry();
    const base = { name: 'x', privilege: Privilege.User, channel: 'both' as const, handler: () => ({ cc: 0 }) };
    expect(() => r.register({ ...base, netfn: 0x06, cmd: 0x01 })).toThrow(/already registered/);
    expect(() => r.register({ ...base, netfn: 0x07, cmd: 0x01 })).toThrow(/even request NetFn/);
    expect(() => r.register({ ...base, netfn: 0x2e, cmd: 0x01 })).toThrow(/IANA/);
    expect(() => r.register({ ...base, netfn: 0x06, cmd: 0x02, iana: 1 })).toThrow(/IANA/);
    expect(() => r.register({ ...base, netfn: 0x06, cmd: 0x100 })).toThrow(/cmd/);
  });
});
