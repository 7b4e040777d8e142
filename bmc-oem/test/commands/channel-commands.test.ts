import { describe, expect, it } from 'vitest';
import { getChannelAccess, getChannelInfo, getSessionInfo } from '../../src/commands/channel-commands.js';
import type { CommandContext, SessionSummary } from '../../src/commands/command-types.js';

const sessions: SessionSummary[] = [
  { id: 0x11111111, handle: 3, userId: 2, privilege: 4, peer: '192.0.2.7:49152' },
  { id: 0x22222222, handle: 9, userId: 3, privilege: 3, peer: '2001:db8::1:623' },
];
const deps = { lanChannel: 1, maxSessions: 1024, activeSessions: () => sessions };
const session = { id: 0x22222222, handle: 9, userId: 3, userName: 'oper', maxPrivilege: 3 as const, setPrivilege: () => undefined, closeAfterResponse: () => undefined };
const lan: CommandContext = { channel: 'lan', privilege: 3, lun: 0, session };
const sys: CommandContext = { channel: 'system', privilege: 4, lun: 0 };

describe('channel and session information', () => {
  it('Get Channel Info counts the active LAN sessions; "this channel" resolves by side', () => {
    expect(getChannelInfo(deps, lan, Uint8Array.of(1)).data?.subarray(0, 4)).toEqual(Uint8Array.of(1, 0x04, 0x01, 0x82));
    expect(getChannelInfo(deps, lan, Uint8Array.of(0x0e)).data?.[0]).toBe(1);
    expect(getChannelInfo(deps, sys, Uint8Array.of(0x0e)).data?.[0]).toBe(0x0f);
    expect(getChannelInfo(deps, lan, Uint8Array.of(2)).cc).toBe(0xcc);
  });

  it('Get Channel Access: always available, per-message and user-level authentication on, administrator limit', () => {
    expect(getChannelAccess(deps, lan, Uint8Array.of(1, 0x40))).toEqual({ cc: 0, data: Uint8Array.of(0x22, 4) });
    expect(getChannelAccess(deps, lan, Uint8Array.of(1, 0x80)).cc).toBe(0);
    expect(getChannelAccess(deps, lan, Uint8Array.of(1, 0x00)).cc).toBe(0xcc);
  });

  it('Get Session Info: current, by index, by handle, by id; 0xCB past the last', () => {
    expect(getSessionInfo(deps, lan, Uint8Array.of(0)).data).toEqual(Uint8Array.of(9, 63, 2, 3, 3, 0x11));
    expect(getSessionInfo(deps, lan, Uint8Array.of(1)).data).toEqual(Uint8Array.of(3, 63, 2, 2, 4, 0x11, 192, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0x00, 0xc0));
    expect(getSessionInfo(deps, lan, Uint8Array.of(0xfe, 3)).data?.[0]).toBe(3);
    expect(getSessionInfo(deps, lan, Uint8Array.of(0xff, 0x22, 0x22, 0x22, 0x22)).data?.[0]).toBe(9);
    expect(getSessionInfo(deps, lan, Uint8Array.of(3)).cc).toBe(0xcb);
    expect(getSessionInfo(deps, sys, Uint8Array.of(0)).data).toEqual(Uint8Array.of(0, 63, 2));
  });
});
