// How a BMC's refusal during session establishment becomes the error a caller
// switches on: the IPMI v2.0 RMCP+ status codes (Table 13-15) and the RAKP 2
// proof check, per docs/rmcp.md "Authentication failures".
import { fromHex, passwordKey, RmcpStatus, utf8 } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { badRakp2ProofError, privilegeRefusedError, refusalError } from '../../src/rmcp/auth-failure.js';
import { isRmcpAuthError, isRmcpError, RmcpAuthError, RmcpError } from '../../src/rmcp/errors.js';
import { type HandshakeInput, parseRakp2 } from '../../src/rmcp/handshake.js';

const table: Array<[number, string, string | undefined, string]> = [
  [RmcpStatus.UNAUTHORIZED_NAME, 'ERR_RMCP_AUTH_FAILED', 'refused-name-or-privilege', 'unauthorized name'],
  [RmcpStatus.INVALID_NAME_LENGTH, 'ERR_RMCP_AUTH_FAILED', 'refused-name-or-privilege', 'invalid name length'],
  [RmcpStatus.INVALID_ROLE, 'ERR_RMCP_PRIVILEGE_DENIED', 'refused-name-or-privilege', 'invalid role'],
  [RmcpStatus.UNAUTHORIZED_ROLE, 'ERR_RMCP_PRIVILEGE_DENIED', 'refused-name-or-privilege', 'unauthorized role'],
  [RmcpStatus.INSUFFICIENT_RESOURCES, 'ERR_RMCP_AUTH_FAILED', 'throttled', 'insufficient resources'],
  [RmcpStatus.INSUFFICIENT_RESOURCES_FOR_ROLE, 'ERR_RMCP_AUTH_FAILED', 'throttled', 'insufficient resources'],
  [RmcpStatus.INVALID_INTEGRITY_CHECK_VALUE, 'ERR_RMCP_AUTH_FAILED', 'bad-password', 'invalid integrity check value'],
  [RmcpStatus.INVALID_SESSION_ID, 'ERR_RMCP_HANDSHAKE_FAILED', undefined, 'invalid session ID'],
  [RmcpStatus.INACTIVE_SESSION_ID, 'ERR_RMCP_HANDSHAKE_FAILED', undefined, 'inactive session ID'],
  [RmcpStatus.UNAUTHORIZED_GUID, 'ERR_RMCP_HANDSHAKE_FAILED', undefined, 'unauthorized GUID'],
  [RmcpStatus.ILLEGAL_PARAMETER, 'ERR_RMCP_HANDSHAKE_FAILED', undefined, 'illegal or unrecognized parameter'],
  [0x42, 'ERR_RMCP_HANDSHAKE_FAILED', undefined, 'unknown RMCP+ status 0x42'],
];

describe('refusalError: RMCP+ status code → error', () => {
  it.each(table)('status 0x%s → %s / %s', (status, code, kind, text) => {
    const err = refusalError('bmc:623', 'RAKP message 1', status);
    expect(err).toBeInstanceOf(RmcpError);
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
    expect(err.message).toContain(`(0x${status.toString(16).padStart(2, '0')})`);
    if (kind === undefined) {
      expect(isRmcpAuthError(err)).toBe(false);
    } else {
      if (!isRmcpAuthError(err)) throw new Error('expected an RmcpAuthError');
      expect(err.kind).toBe(kind);
      expect(err.status).toBe(status);
      // IPMI carries no "retry after": nothing is made up.
      expect(err.retryAfterMs).toBeUndefined();
    }
  });

  it('an auth error is an Error and an RmcpError, so existing handlers still see its code', () => {
    const err = badRakp2ProofError('bmc:623');
    expect(err).toBeInstanceOf(Error);
    expect(isRmcpError(err, 'ERR_RMCP_AUTH_FAILED')).toBe(true);
    expect(err.kind).toBe('bad-password');
    expect(err.name).toBe('RmcpAuthError');
    expect(err.message).toMatch(/wrong password/);
  });

  it('a refused Set Session Privilege Level is refused-name-or-privilege', () => {
    const err = privilegeRefusedError('bmc:623', 4, 0x81);
    expect(err.kind).toBe('refused-name-or-privilege');
    expect(err.code).toBe('ERR_RMCP_PRIVILEGE_DENIED');
    expect(err.message).toContain('cc 0x81');
  });

  it('carries retryAfterMs when a layer that knows it sets it', () => {
    expect(new RmcpAuthError('locked-out', 'locked', { retryAfterMs: 60_000 }).retryAfterMs).toBe(60_000);
  });
});

// The captured ipmitool ↔ ipmi_sim exchange (handshake.test.ts): the BMC knew the password "secret".
const RAKP2 = '0600ff07061300000000000000003c0000000000a4a3a2a05fd0760be8109adab67ddcb02469b7b3a123456789abcdefa123456789abcdef6c1a4104d20f32f730b1f7fbd88438d7bff7b2ca';
const input = (password: string): HandshakeInput => ({
  userName: utf8('admin'),
  kuid: passwordKey(utf8(password)),
  privilege: 4,
  suite: 3,
  consoleSessionId: 0xa0a2a3a4,
  remoteConsoleRandom: fromHex('d6e5018f050b2520af0bc12ae063581c'),
  messageTag: 0,
});

describe('RAKP 2 proof: the wrong-password signal', () => {
  it('verifies with the BMC password and not with another one', () => {
    expect(parseRakp2(input('secret'), 0x182, fromHex(RAKP2))?.kind).toBe('ok');
    expect(parseRakp2(input('Secret'), 0x182, fromHex(RAKP2))?.kind).toBe('bad-proof');
  });
});
