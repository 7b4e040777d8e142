/**
 * The console's half of session establishment (IPMI v2.0 §13.15-13.23), as
 * pure builders and checkers: pre-session requests, Open Session, RAKP 1-4.
 * The sequencing, timeouts and restarts are in open-session.ts.
 *
 *   Get Channel Auth Caps (v1.5 framing, like ipmitool) → is IPMI 2.0 there?
 *   Get Channel Cipher Suites (pre-session v2.0)         → which suites are offered
 *   Open Session Request/Response                        → session ids, algorithms
 *   RAKP1 / RAKP2                                        → randoms, GUID, BMC proves the password
 *   RAKP3 / RAKP4                                        → we prove it, BMC proves the SIK
 */
import {
  cipherSuiteAlgorithms,
  constantTimeEqual,
  decodeIpmiLanResponse,
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  decodeRmcpDatagram,
  deriveSessionKeys,
  encodeIpmiLanRequest,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp3,
  encodeRmcpDatagram,
  IpmbAddress,
  isWireError,
  NO_SESSION_CRYPTO,
  PayloadType,
  Privilege,
  RAKP_NAME_ONLY_LOOKUP,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  type RakpContext,
  responseNetFn,
  RmcpStatus,
  sealIpmi2Packet,
  type SessionCrypto,
} from '@backchannel/proto';

export interface HandshakeInput {
  userName: Uint8Array;
  /** Password key (Kuid), 20 bytes. */
  kuid: Uint8Array;
  privilege: number;
  suite: number;
  consoleSessionId: number;
  remoteConsoleRandom: Uint8Array;
  messageTag: number;
}

const noRandom = (): Uint8Array => new Uint8Array(0);

/** A pre-session IPMI request, in IPMI 1.5 framing (auth type none) or IPMI 2.0 framing (session id 0). */
export function buildPreSessionRequest(framing: 'v15' | 'v20', netFn: number, cmd: number, data: Uint8Array, rqSeq: number): Uint8Array {
  const message = encodeIpmiLanRequest({ rsAddr: IpmbAddress.BMC, netFn, rsLun: 0, rqAddr: IpmbAddress.REMOTE_CONSOLE, rqSeq, rqLun: 0, cmd, data });
  if (framing === 'v15') return encodeRmcpDatagram({ kind: 'ipmi15', session: { sessionSeq: 0, sessionId: 0, message } });
  return sealIpmi2Packet(NO_SESSION_CRYPTO, { sessionId: 0, sessionSeq: 0, payloadType: PayloadType.IPMI, payload: message }, noRandom);
}

/** The answer to a pre-session request, or undefined when the datagram is something else. */
export function parsePreSessionResponse(datagram: Uint8Array, netFn: number, cmd: number, rqSeq: number): { cc: number; data: Uint8Array } | undefined {
  try {
    const d = decodeRmcpDatagram(datagram);
    let message: Uint8Array;
    if (d.kind === 'ipmi15' && d.session.sessionId === 0) message = d.session.message;
    else if (d.kind === 'ipmi20' && d.session.sessionId === 0 && d.session.payloadType === PayloadType.IPMI && !d.session.encrypted && !d.session.authenticated) message = d.session.payload;
    else return undefined;
    const res = decodeIpmiLanResponse(message);
    if (res.netFn !== responseNetFn(netFn) || res.cmd !== cmd || res.rqSeq !== rqSeq) return undefined;
    return { cc: res.cc, data: res.data };
  } catch (err) {
    if (isWireError(err)) return undefined;
    throw err;
  }
}

function preSessionPayload(datagram: Uint8Array, payloadType: number): Uint8Array | undefined {
  try {
    const d = decodeRmcpDatagram(datagram);
    if (d.kind !== 'ipmi20' || d.session.payloadType !== payloadType || d.session.sessionId !== 0) return undefined;
    return d.session.payload;
  } catch (err) {
    if (isWireError(err)) return undefined;
    throw err;
  }
}

function sealPreSession(payloadType: number, payload: Uint8Array): Uint8Array {
  return sealIpmi2Packet(NO_SESSION_CRYPTO, { sessionId: 0, sessionSeq: 0, payloadType, payload }, noRandom);
}

export function buildOpenSessionRequest(h: HandshakeInput): Uint8Array {
  const s = cipherSuiteAlgorithms(h.suite);
  if (!s) throw new RangeError(`unknown cipher suite ${h.suite}`);
  return sealPreSession(
    PayloadType.OPEN_SESSION_REQUEST,
    encodeOpenSessionRequest({
      messageTag: h.messageTag,
      // 0 = "the highest level the user may have", as ipmitool sends; the level is asked for in RAKP1.
      requestedPrivilege: Privilege.HIGHEST,
      remoteConsoleSessionId: h.consoleSessionId,
      authAlgorithm: s.authAlgorithm,
      integrityAlgorithm: s.integrityAlgorithm,
      confidentialityAlgorithm: s.confidentialityAlgorithm,
    }),
  );
}

export type OpenSessionOutcome = { kind: 'ok'; bmcSessionId: number } | { kind: 'refused'; status: number };

/** undefined: not the answer to this Open Session Request (another tag, a stale attempt, noise). */
export function parseOpenSessionResponse(h: HandshakeInput, datagram: Uint8Array): OpenSessionOutcome | undefined {
  const payload = preSessionPayload(datagram, PayloadType.OPEN_SESSION_RESPONSE);
  if (!payload) return undefined;
  let r;
  try {
    r = decodeOpenSessionResponse(payload);
  } catch (err) {
    if (isWireError(err)) return undefined;
    throw err;
  }
  if (r.messageTag !== h.messageTag) return undefined;
  if (!('managedSystemSessionId' in r)) {
    // Error answers may omit or zero the session id; the tag already matched.
    if (r.remoteConsoleSessionId !== 0 && r.remoteConsoleSessionId !== h.consoleSessionId) return undefined;
    return { kind: 'refused', status: r.status };
  }
  if (r.remoteConsoleSessionId !== h.consoleSessionId) return undefined;
  const s = cipherSuiteAlgorithms(h.suite);
  if (!s || r.authAlgorithm !== s.authAlgorithm || r.integrityAlgorithm !== s.integrityAlgorithm || r.confidentialityAlgorithm !== s.confidentialityAlgorithm) {
    // A BMC that answers with other algorithms than proposed is not speaking this suite.
    return { kind: 'refused', status: RmcpStatus.NO_CIPHER_SUITE_MATCH };
  }
  if (r.managedSystemSessionId === 0) return { kind: 'refused', status: RmcpStatus.INVALID_SESSION_ID };
  return { kind: 'ok', bmcSessionId: r.managedSystemSessionId };
}

export function rakpRole(privilege: number): number {
  return privilege | RAKP_NAME_ONLY_LOOKUP;
}

export function buildRakp1(h: HandshakeInput, bmcSessionId: number): Uint8Array {
  return sealPreSession(
    PayloadType.RAKP1,
    encodeRakp1({ messageTag: h.messageTag, managedSystemSessionId: bmcSessionId, remoteConsoleRandom: h.remoteConsoleRandom, role: rakpRole(h.privilege), userName: h.userName }),
  );
}

export type Rakp2Outcome = { kind: 'ok'; ctx: RakpContext } | { kind: 'refused'; status: number } | { kind: 'bad-proof'; ctx: RakpContext };

export function parseRakp2(h: HandshakeInput, bmcSessionId: number, datagram: Uint8Array): Rakp2Outcome | undefined {
  const payload = preSessionPayload(datagram, PayloadType.RAKP2);
  if (!payload) return undefined;
  let r;
  try {
    r = decodeRakp2(payload);
  } catch (err) {
    if (isWireError(err)) return undefined;
    throw err;
  }
  if (r.messageTag !== h.messageTag) return undefined;
  if (!('managedSystemRandom' in r)) return { kind: 'refused', status: r.status };
  if (r.remoteConsoleSessionId !== h.consoleSessionId) return undefined;
  const s = cipherSuiteAlgorithms(h.suite);
  if (!s) return undefined;
  const ctx: RakpContext = {
    authAlgorithm: s.authAlgorithm,
    remoteConsoleSessionId: h.consoleSessionId,
    managedSystemSessionId: bmcSessionId,
    remoteConsoleRandom: h.remoteConsoleRandom,
    managedSystemRandom: r.managedSystemRandom,
    managedSystemGuid: r.managedSystemGuid,
    role: rakpRole(h.privilege),
    userName: h.userName,
  };
  // The BMC proves it knows the same password; a mismatch is a wrong password (or an impostor).
  const ok = constantTimeEqual(rakp2AuthCode(ctx, h.kuid), r.keyExchangeAuthCode);
  return ok ? { kind: 'ok', ctx } : { kind: 'bad-proof', ctx };
}

/** RAKP3 with our proof, or (status ≠ 0, no proof) telling the BMC to drop the half-open session. */
export function buildRakp3(h: HandshakeInput, ctx: RakpContext, status = 0): Uint8Array {
  return sealPreSession(
    PayloadType.RAKP3,
    encodeRakp3({ messageTag: h.messageTag, status, managedSystemSessionId: ctx.managedSystemSessionId, keyExchangeAuthCode: status === 0 ? rakp3AuthCode(ctx, h.kuid) : new Uint8Array(0) }),
  );
}

export type Rakp4Outcome = { kind: 'ok'; crypto: SessionCrypto } | { kind: 'refused'; status: number } | { kind: 'bad-proof' };

export function parseRakp4(h: HandshakeInput, ctx: RakpContext, datagram: Uint8Array): Rakp4Outcome | undefined {
  const payload = preSessionPayload(datagram, PayloadType.RAKP4);
  if (!payload) return undefined;
  let r;
  try {
    r = decodeRakp4(payload);
  } catch (err) {
    if (isWireError(err)) return undefined;
    throw err;
  }
  if (r.messageTag !== h.messageTag) return undefined;
  if (r.status !== 0) return { kind: 'refused', status: r.status };
  if (r.remoteConsoleSessionId !== h.consoleSessionId) return undefined;
  // No BMC key (Kg) is configured on the console side: Kg = Kuid (§13.31).
  const keys = deriveSessionKeys(ctx, h.kuid);
  if (!constantTimeEqual(rakp4Icv(ctx, keys.sik), r.integrityCheckValue)) return { kind: 'bad-proof' };
  const s = cipherSuiteAlgorithms(h.suite);
  if (!s) return undefined;
  return { kind: 'ok', crypto: { integrityAlgorithm: s.integrityAlgorithm, confidentialityAlgorithm: s.confidentialityAlgorithm, k1: keys.k1, k2: keys.k2 } };
}
