import { decodeSolPacket, encodeSolPacket, SolOperation, SolStatus, utf8 } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../src/commands/command-types.js';
import { Privilege, type PrivilegeLevel } from '../../src/commands/privilege.js';
import { activatePayload, deactivatePayload, getPayloadActivationStatus, getSolConfig, setSolConfig, type SolCommandDeps } from '../../src/sol/sol-commands.js';
import { SolBridge } from '../../src/sol/sol-bridge.js';
import { parseSolDevice } from '../../src/sol/sol-device.js';
import { SolSettings } from '../../src/sol/sol-settings.js';

function rig() {
  let now = 0;
  const alive = new Set<number>();
  const sent: { id: number; payload: Uint8Array }[] = [];
  const host: Uint8Array[] = [];
  const settings = new SolSettings({ enabled: true, privilege: Privilege.User, baud: 115200, retryCount: 2, retryIntervalMs: 100, port: () => 623 });
  const bridge = new SolBridge(settings, { alive: (id) => alive.has(id), send: (id, payload) => sent.push({ id, payload }) }, { write: (b) => host.push(b) });
  const deps: SolCommandDeps = { bridge, settings, now: () => now };
  const ctx = (id: number, privilege: PrivilegeLevel = Privilege.Administrator): CommandContext => ({
    channel: 'lan',
    privilege,
    lun: 0,
    session: { id, handle: 1, userName: id >= 100 ? 'other' : 'u', userId: 2, maxPrivilege: privilege, setPrivilege: () => undefined, closeAfterResponse: () => undefined },
  });
  return { settings, bridge, deps, ctx, alive, sent, host, tick: (ms: number) => (now += ms), get now() { return now; } };
}

const ACTIVATE = Uint8Array.of(1, 1, 0xc0, 0, 0, 0);

describe('SOL payload activation', () => {
  it('activates once; a second session gets 0x80 until the first deactivates', () => {
    const r = rig();
    r.alive.add(1).add(2);
    const a = activatePayload(r.deps, r.ctx(1), ACTIVATE);
    expect(a.cc).toBe(0);
    // inbound/outbound 252, port 623 (0x026f), no VLAN
    expect([...a.data!]).toEqual([0, 0, 0, 0, 0xfc, 0, 0xfc, 0, 0x6f, 0x02, 0xff, 0xff]);
    expect(activatePayload(r.deps, r.ctx(2), ACTIVATE).cc).toBe(0x80);
    expect([...getPayloadActivationStatus(r.deps, r.ctx(2), Uint8Array.of(1)).data!]).toEqual([1, 1, 0]);
    expect(deactivatePayload(r.deps, r.ctx(1), ACTIVATE).cc).toBe(0);
    expect(deactivatePayload(r.deps, r.ctx(1), ACTIVATE).cc).toBe(0x80);
    expect(activatePayload(r.deps, r.ctx(2), ACTIVATE).cc).toBe(0);
  });

  it('a session that vanished without deactivating leaves the payload free', () => {
    const r = rig();
    r.alive.add(1);
    expect(activatePayload(r.deps, r.ctx(1), ACTIVATE).cc).toBe(0);
    r.alive.delete(1);
    r.alive.add(2);
    expect(activatePayload(r.deps, r.ctx(2), ACTIVATE).cc).toBe(0);
  });

  it('an administrator (or the same user) ends another console, which is told "SOL deactivating"; another operator may not', () => {
    const r = rig();
    r.alive.add(1).add(2).add(100);
    activatePayload(r.deps, r.ctx(1, Privilege.User), ACTIVATE);
    expect(deactivatePayload(r.deps, r.ctx(100, Privilege.Operator), ACTIVATE).cc).toBe(0xd4);
    expect(deactivatePayload(r.deps, r.ctx(2), ACTIVATE).cc).toBe(0);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.id).toBe(1);
    expect(decodeSolPacket(r.sent[0]!.payload).flags & SolStatus.SOL_DEACTIVATING).toBeTruthy();
  });

  it('the same user takes over from a stale session of theirs (a reconnecting console)', () => {
    const r = rig();
    r.alive.add(1).add(2);
    activatePayload(r.deps, r.ctx(1, Privilege.Operator), ACTIVATE);
    expect(deactivatePayload(r.deps, r.ctx(2, Privilege.Operator), ACTIVATE).cc).toBe(0);
    expect(activatePayload(r.deps, r.ctx(2, Privilege.Operator), ACTIVATE).cc).toBe(0);
  });

  it('refuses: disabled (0x81), privilege below the SOL setting (0xD4), instance 2 (0x82), unencrypted when forced (0x84), wrong length', () => {
    const r = rig();
    r.alive.add(1);
    r.settings.set(2, Uint8Array.of(0xc3)); // operator
    expect(activatePayload(r.deps, r.ctx(1, Privilege.User), ACTIVATE).cc).toBe(0xd4);
    expect(activatePayload(r.deps, r.ctx(1), Uint8Array.of(1, 2, 0xc0, 0, 0, 0)).cc).toBe(0x82);
    expect(activatePayload(r.deps, r.ctx(1), Uint8Array.of(1, 1, 0x00, 0, 0, 0)).cc).toBe(0x84);
    expect(activatePayload(r.deps, r.ctx(1), Uint8Array.of(1, 1)).cc).toBe(0xc7);
    r.settings.set(1, Uint8Array.of(0));
    expect(activatePayload(r.deps, r.ctx(1), ACTIVATE).cc).toBe(0x81);
  });
});

describe('SOL data through the bridge (fake clock)', () => {
  it('console keystrokes reach the host once, acknowledged in the reply; a duplicate is acked, not written again', () => {
    const r = rig();
    r.alive.add(7);
    activatePayload(r.deps, r.ctx(7), ACTIVATE);
    const pkt = encodeSolPacket({ seq: 1, ackSeq: 0, acceptedCount: 0, flags: 0, data: utf8('ls\r') });
    const ack = decodeSolPacket(r.bridge.fromConsole(7, pkt, 0)!);
    expect(ack).toMatchObject({ seq: 0, ackSeq: 1, acceptedCount: 3 });
    r.bridge.fromConsole(7, pkt, 1);
    expect(r.host.map((b) => new TextDecoder().decode(b))).toEqual(['ls\r']);
  });

  it('host output goes to the console and is resent until acknowledged, at most retryCount times', () => {
    const r = rig();
    r.alive.add(7);
    activatePayload(r.deps, r.ctx(7), ACTIVATE);
    r.bridge.fromHost(utf8('login: '), 0);
    expect(decodeSolPacket(r.sent[0]!.payload)).toMatchObject({ seq: 1, data: utf8('login: ') });
    expect(r.bridge.nextDeadline()).toBe(100);
    r.bridge.tick(100);
    r.bridge.tick(200);
    r.bridge.tick(300);
    expect(r.sent).toHaveLength(3);
    expect(r.bridge.stats.lostPackets).toBe(1);
    r.bridge.fromHost(utf8('x'), 400);
    const p = decodeSolPacket(r.sent[3]!.payload);
    expect(p.seq).toBe(2);
    r.bridge.fromConsole(7, encodeSolPacket({ seq: 0, ackSeq: 2, acceptedCount: 1, flags: 0, data: new Uint8Array() }), 410);
    expect(r.bridge.nextDeadline()).toBeUndefined();
  });

  it('host output without an active console is dropped, as a UART with nothing attached', () => {
    const r = rig();
    r.bridge.fromHost(utf8('boot messages'), 0);
    expect(r.bridge.activation).toBeUndefined();
    expect(r.sent).toEqual([]);
  });

  it('a break from the console is counted and passed to the host port', () => {
    const r = rig();
    r.alive.add(7);
    activatePayload(r.deps, r.ctx(7), ACTIVATE);
    r.bridge.fromConsole(7, encodeSolPacket({ seq: 1, ackSeq: 0, acceptedCount: 0, flags: SolOperation.GENERATE_BREAK, data: new Uint8Array() }), 0);
    expect(r.bridge.stats.breaks).toBe(1);
  });

  it('packets from another session or garbage are dropped', () => {
    const r = rig();
    r.alive.add(7);
    activatePayload(r.deps, r.ctx(7), ACTIVATE);
    expect(r.bridge.fromConsole(8, encodeSolPacket({ seq: 1, ackSeq: 0, acceptedCount: 0, flags: 0, data: utf8('x') }), 0)).toBeUndefined();
    expect(r.bridge.fromConsole(7, Uint8Array.of(1), 0)).toBeUndefined();
    expect(r.bridge.stats.dropped).toBe(2);
    expect(r.host).toEqual([]);
  });
});

describe('SOL configuration parameters', () => {
  const get = (r: ReturnType<typeof rig>, p: number) => getSolConfig(r.deps, r.ctx(1), Uint8Array.of(1, p, 0, 0));
  it('reads what ipmitool sol info shows', () => {
    const r = rig();
    expect([...get(r, 1).data!]).toEqual([0x11, 1]);
    expect([...get(r, 2).data!]).toEqual([0x11, 0xc2]);
    expect([...get(r, 4).data!]).toEqual([0x11, 2, 10]);
    expect([...get(r, 5).data!]).toEqual([0x11, 10]);
    expect([...get(r, 8).data!]).toEqual([0x11, 0x6f, 0x02]);
    expect(get(r, 9).cc).toBe(0x80);
    expect([...getSolConfig(r.deps, r.ctx(1), Uint8Array.of(0x81, 1, 0, 0)).data!]).toEqual([0x11]);
  });
  it('sets baud (listeners told), retry, privilege; refuses read-only and bad values', () => {
    const r = rig();
    const bauds: number[] = [];
    r.settings.onBaudChange((b) => bauds.push(b));
    expect(setSolConfig(r.deps, r.ctx(1), Uint8Array.of(1, 6, 9)).cc).toBe(0);
    expect(bauds).toEqual([57600]);
    expect(setSolConfig(r.deps, r.ctx(1), Uint8Array.of(1, 4, 3, 20)).cc).toBe(0);
    expect(r.settings.retryIntervalMs).toBe(200);
    expect(setSolConfig(r.deps, r.ctx(1), Uint8Array.of(1, 8, 1, 2)).cc).toBe(0x82);
    expect(setSolConfig(r.deps, r.ctx(1), Uint8Array.of(1, 5, 3)).cc).toBe(0xcc);
    expect(setSolConfig(r.deps, r.ctx(1), Uint8Array.of(1, 2, 0xc1)).cc).toBe(0xcc);
  });
});

describe('SOL device specs', () => {
  it('parses tcp, unix and serial with baud; refuses others with the field named', () => {
    expect(parseSolDevice('sol.device', 'tcp:127.0.0.1:5000')).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 5000 });
    expect(parseSolDevice('sol.device', 'unix:/run/host.sock')).toMatchObject({ kind: 'unix', path: '/run/host.sock' });
    expect(parseSolDevice('sol.device', 'serial:/dev/ttyS1@57600')).toMatchObject({ kind: 'serial', path: '/dev/ttyS1', baud: 57600 });
    expect(() => parseSolDevice('--sol-device', 'serial:/dev/ttyS1@1200')).toThrow(/--sol-device.*9600/);
    expect(() => parseSolDevice('--sol-device', 'udp:x:1')).toThrow(/--sol-device/);
  });
});
