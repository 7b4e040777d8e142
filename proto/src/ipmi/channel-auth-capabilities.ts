/**
 * Get Channel Authentication Capabilities (NetFn App 0x38), IPMI v2.0
 * §22.13, Table 22-15. Request data:
 *
 *   0  bit 7: get IPMI v2.0 extended data; bits 3:0 channel (0x0E = this one)
 *   1  requested maximum privilege (3:0)
 *
 * Response data (after the completion code):
 *
 *   0     channel number
 *   1     bit 7: IPMI v2.0 extended capabilities available;
 *         bits 5:0 IPMI v1.5 auth types (5 OEM, 4 straight password, 2 MD5, 1 MD2, 0 none)
 *   2     bit 5 KG non-zero, bit 4 per-message auth disabled, bit 3 user-level auth
 *         disabled, bit 2 non-null user names, bit 1 null user names, bit 0 anonymous login
 *   3     bit 1 IPMI v2.0 connections supported, bit 0 IPMI v1.5 supported
 *   4..6  OEM IANA (LE)
 *   7     OEM auxiliary data
 */
import { requireBytes } from '../bytes.js';
import { WireError } from '../errors.js';
import { ipmiDeviations, type DeviationSink } from './deviations.js';
import { isByte } from './ranges.js';

export interface ChannelAuthCapabilitiesRequest {
  channel: number;
  extendedData: boolean;
  requestedPrivilege: number;
}

export interface ChannelAuthCapabilities {
  channel: number;
  extendedCapabilities: boolean;
  /** IPMI v1.5 authentication type bitmask (bits 5:0). */
  authTypes: number;
  kgNonZero: boolean;
  perMessageAuthDisabled: boolean;
  userLevelAuthDisabled: boolean;
  nonNullUserNames: boolean;
  nullUserNames: boolean;
  anonymousLogin: boolean;
  supportsIpmi20: boolean;
  supportsIpmi15: boolean;
  oemIana: number;
  oemAux: number;
}

export function encodeChannelAuthCapabilitiesRequest(m: ChannelAuthCapabilitiesRequest): Uint8Array {
  if (!Number.isInteger(m.channel) || m.channel < 0 || m.channel > 0x0f) throw new WireError('ERR_BAD_FIELD', 'channel does not fit 4 bits');
  if (!Number.isInteger(m.requestedPrivilege) || m.requestedPrivilege < 0 || m.requestedPrivilege > 0x0f) throw new WireError('ERR_BAD_FIELD', 'privilege does not fit 4 bits');
  return new Uint8Array([(m.extendedData ? 0x80 : 0) | m.channel, m.requestedPrivilege]);
}

export function decodeChannelAuthCapabilitiesRequest(buf: Uint8Array): ChannelAuthCapabilitiesRequest {
  requireBytes(buf, 0, 2, 'ERR_TRUNCATED', 'Get Channel Auth Capabilities request');
  if (buf.length !== 2) throw new WireError('ERR_TRAILING_BYTES', 'bytes after Get Channel Auth Capabilities request', 2);
  const b0 = buf[0] ?? 0;
  return { channel: b0 & 0x0f, extendedData: (b0 & 0x80) !== 0, requestedPrivilege: (buf[1] ?? 0) & 0x0f };
}

export function encodeChannelAuthCapabilities(m: ChannelAuthCapabilities): Uint8Array {
  if (!isByte(m.channel) || m.channel > 0x0f) throw new WireError('ERR_BAD_FIELD', 'channel does not fit 4 bits');
  if (!Number.isInteger(m.authTypes) || m.authTypes < 0 || m.authTypes > 0x3f) throw new WireError('ERR_BAD_FIELD', 'auth types do not fit 6 bits');
  if (!Number.isInteger(m.oemIana) || m.oemIana < 0 || m.oemIana > 0xffffff || !isByte(m.oemAux)) throw new WireError('ERR_BAD_FIELD', 'OEM fields out of range');
  return new Uint8Array([
    m.channel,
    (m.extendedCapabilities ? 0x80 : 0) | m.authTypes,
    (m.kgNonZero ? 0x20 : 0) |
      (m.perMessageAuthDisabled ? 0x10 : 0) |
      (m.userLevelAuthDisabled ? 0x08 : 0) |
      (m.nonNullUserNames ? 0x04 : 0) |
      (m.nullUserNames ? 0x02 : 0) |
      (m.anonymousLogin ? 0x01 : 0),
    (m.supportsIpmi20 ? 0x02 : 0) | (m.supportsIpmi15 ? 0x01 : 0),
    m.oemIana & 0xff,
    (m.oemIana >>> 8) & 0xff,
    (m.oemIana >>> 16) & 0xff,
    m.oemAux,
  ]);
}

/**
 * Decodes Get Channel Authentication Capabilities, tolerantly: the first 4
 * bytes (channel, auth types, status, v2.0 support) are needed; missing OEM
 * bytes read as 0 and bytes past the 8th are ignored, each reported to
 * `onDeviation` (by default `ipmiDeviations`).
 */
export function decodeChannelAuthCapabilities(buf: Uint8Array, onDeviation: DeviationSink = ipmiDeviations.sink): ChannelAuthCapabilities {
  requireBytes(buf, 0, 4, 'ERR_TRUNCATED', 'Get Channel Auth Capabilities response');
  if (buf.length < 8) onDeviation({ message: 'Get Channel Auth Capabilities', kind: 'short', length: buf.length });
  else if (buf.length > 8) onDeviation({ message: 'Get Channel Auth Capabilities', kind: 'long', length: buf.length });
  const b = (i: number): number => buf[i] ?? 0;
  return {
    channel: b(0) & 0x0f,
    extendedCapabilities: (b(1) & 0x80) !== 0,
    authTypes: b(1) & 0x3f,
    kgNonZero: (b(2) & 0x20) !== 0,
    perMessageAuthDisabled: (b(2) & 0x10) !== 0,
    userLevelAuthDisabled: (b(2) & 0x08) !== 0,
    nonNullUserNames: (b(2) & 0x04) !== 0,
    nullUserNames: (b(2) & 0x02) !== 0,
    anonymousLogin: (b(2) & 0x01) !== 0,
    supportsIpmi20: (b(3) & 0x02) !== 0,
    supportsIpmi15: (b(3) & 0x01) !== 0,
    oemIana: b(4) | (b(5) << 8) | (b(6) << 16),
    oemAux: b(7),
  };
}
