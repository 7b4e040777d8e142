/**
 * openSession: from a host, a user and a password to an established RMCP+
 * session at the requested privilege.
 *
 * 1. Get Channel Authentication Capabilities (pre-session): the BMC is there
 *    and speaks IPMI v2.0.
 * 2. Get Channel Cipher Suites (pre-session, v1.5 framing), when the BMC answers it: the
 *    acceptable suites it does not offer are skipped.
 * 3. For each remaining suite in preference order: Open Session, RAKP 1-4.
 *    A suite the BMC refuses moves on to the next one. Each message is sent
 *    again, word for word, on the adaptive RTO until answered; only a step
 *    that goes `giveUpMs` without an answer restarts the whole handshake
 *    with fresh ids and randoms, once.
 * 4. Set Session Privilege Level, inside the new session.
 *
 * Every exchange, from the first pre-session request on, feeds one
 * RttEstimator (RFC 6298): the session starts with the round trips the
 * handshake measured.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import {
  AppCommand,
  CIPHER_SUITE_SLICE_BYTES,
  CURRENT_CHANNEL,
  decodeChannelAuthCapabilities,
  decodeChannelCipherSuitesResponse,
  decodeCipherSuiteRecords,
  encodeChannelAuthCapabilitiesRequest,
  encodeChannelCipherSuitesRequest,
  encodeSetSessionPrivilegeRequest,
  isImplementedCipherSuite,
  isWireError,
  MAX_CIPHER_SUITE_LIST_INDEX,
  MAX_PASSWORD_BYTES,
  MAX_USER_NAME_BYTES,
  NetFn,
  offeredStandardSuites,
  parsePrivilege,
  passwordKey,
  PayloadType,
  type PrivilegeLevel,
  type RandomBytes,
  RmcpStatus,
  utf8,
} from '@backchannel/proto';
import { type Clock, systemClock } from './clock.js';
import { badRakp2ProofError, badRakp4ProofError, privilegeRefusedError, refusalError } from './auth-failure.js';
import { RmcpError } from './errors.js';
import { DEFAULT_RTO_BOUNDS, type RtoBounds, RttEstimator } from './rtt-estimator.js';
import {
  buildOpenSessionRequest,
  buildPreSessionRequest,
  buildRakp1,
  buildRakp3,
  type HandshakeInput,
  parseOpenSessionResponse,
  parsePreSessionResponse,
  parseRakp2,
  parseRakp4,
} from './handshake.js';
import { RmcpSession } from './session.js';
import { SessionState } from './session-state.js';
import { connectUdp, type DatagramTransport } from './udp-transport.js';

export const DEFAULT_CIPHER_SUITES: readonly number[] = Object.freeze([17, 3]);

/** A handshake whose step went giveUpMs unanswered is started again once, with fresh ids (the BMC may have lost the first). */
const HANDSHAKE_ATTEMPTS = 2;
/** Get Channel Cipher Suites is optional for a BMC before a session: a few sends, then the suites are tried in order. */
const CIPHER_SUITE_QUERY_SENDS = 3;

export interface OpenSessionOptions {
  host: string;
  port: number;
  user: string;
  password: string | Uint8Array;
  /** 'user' | 'operator' | 'administrator' (or the number); default operator, what the OEM queue commands need. */
  privilege?: string | PrivilegeLevel;
  /** Acceptable suites, most preferred first; default [17, 3]. */
  cipherSuites?: readonly number[];
  /**
   * Wait for an answer before any round trip is measured (the initial RTO,
   * RFC 6298 §2.1); default 1000 ms. Afterwards the wait follows the
   * measured round trips (SRTT + 4 RTTVAR, within minRtoMs..maxRtoMs).
   */
  timeoutMs?: number;
  /**
   * Sets the default give-up time: giveUpMs = timeoutMs × (retries + 1), the
   * time the old fixed schedule took (default 3 → 4 s). Not a count of lost
   * datagrams: within that time a request is resent as often as the RTO says.
   */
  retries?: number;
  /** A request (or handshake step) unanswered this long fails, and a BMC silent this long ends the session; default timeoutMs × (retries + 1). */
  giveUpMs?: number;
  /** Lower bound of the adaptive RTO; default 20 ms. */
  minRtoMs?: number;
  /** Upper bound of the adaptive RTO, back-off included; default 500 ms (the initial RTO may be above it). */
  maxRtoMs?: number;
  /** Idle time before a keep-alive; default 30 000 ms, 0 disables. */
  keepAliveMs?: number;
  /** Requests in flight at once (1..63); default 63. */
  maxInFlight?: number;
  /** Ask the BMC for its cipher suites first; default true. */
  queryCipherSuites?: boolean;
  clock?: Clock;
  randomBytes?: RandomBytes;
}

/** Suites that a BMC refuses with these statuses are skipped in favour of the next acceptable one. */
const SUITE_REFUSALS: ReadonlySet<number> = new Set([
  RmcpStatus.INVALID_AUTH_ALGORITHM,
  RmcpStatus.INVALID_INTEGRITY_ALGORITHM,
  RmcpStatus.NO_MATCHING_AUTH_PAYLOAD,
  RmcpStatus.NO_MATCHING_INTEGRITY_PAYLOAD,
  RmcpStatus.INVALID_CONFIDENTIALITY_ALGORITHM,
  RmcpStatus.NO_CIPHER_SUITE_MATCH,
]);

interface Resolved {
  host: string;
  port: number;
  userName: Uint8Array;
  kuid: Uint8Array;
  privilege: PrivilegeLevel;
  suites: number[];
  timeoutMs: number;
  giveUpMs: number;
  rto: RtoBounds;
  keepAliveMs: number;
  maxInFlight: number;
  queryCipherSuites: boolean;
  clock: Clock;
  randomBytes: RandomBytes;
}

function resolveOptions(o: OpenSessionOptions): Resolved {
  const bad = (msg: string): never => {
    throw new RmcpError('ERR_RMCP_BAD_OPTIONS', msg);
  };
  const userName = utf8(o.user);
  if (userName.length === 0 || userName.length > MAX_USER_NAME_BYTES) bad(`user name must be 1..${MAX_USER_NAME_BYTES} bytes`);
  const password = typeof o.password === 'string' ? utf8(o.password) : o.password;
  if (password.length > MAX_PASSWORD_BYTES) bad(`IPMI v2.0 passwords are at most ${MAX_PASSWORD_BYTES} bytes`);
  let privilege: PrivilegeLevel;
  if (typeof o.privilege === 'number') {
    if (![1, 2, 3, 4, 5].includes(o.privilege)) bad(`privilege ${o.privilege} is not 1..5`);
    privilege = o.privilege;
  } else {
    try {
      privilege = parsePrivilege(o.privilege ?? 'operator');
    } catch (err) {
      throw new RmcpError('ERR_RMCP_BAD_OPTIONS', (err as Error).message);
    }
  }
  const suites = [...(o.cipherSuites ?? DEFAULT_CIPHER_SUITES)];
  if (suites.length === 0) bad('no acceptable cipher suite given');
  for (const s of suites) if (!isImplementedCipherSuite(s)) bad(`cipher suite ${s} is not supported (use 17 or 3)`);
  const int = (v: number | undefined, dflt: number, min: number, max: number, name: string): number => {
    const n = v ?? dflt;
    if (!Number.isInteger(n) || n < min || n > max) bad(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) bad(`port ${o.port} is not 1..65535`);
  const timeoutMs = int(o.timeoutMs, DEFAULT_RTO_BOUNDS.initialRtoMs, 1, 60_000, 'timeoutMs');
  const retries = int(o.retries, 3, 0, 20, 'retries');
  const giveUpMs = int(o.giveUpMs, timeoutMs * (retries + 1), 1, 3_600_000, 'giveUpMs');
  const minRtoMs = int(o.minRtoMs, Math.min(DEFAULT_RTO_BOUNDS.minRtoMs, timeoutMs), 1, 60_000, 'minRtoMs');
  const maxRtoMs = int(o.maxRtoMs, Math.max(DEFAULT_RTO_BOUNDS.maxRtoMs, minRtoMs), 1, 60_000, 'maxRtoMs');
  if (maxRtoMs < minRtoMs) bad(`maxRtoMs (${maxRtoMs}) is below minRtoMs (${minRtoMs})`);
  return {
    host: o.host,
    port: o.port,
    userName,
    kuid: passwordKey(password),
    privilege,
    suites,
    timeoutMs,
    giveUpMs,
    rto: { initialRtoMs: timeoutMs, minRtoMs, maxRtoMs },
    keepAliveMs: int(o.keepAliveMs, 30_000, 0, 3_600_000, 'keepAliveMs'),
    maxInFlight: int(o.maxInFlight, 63, 1, 63, 'maxInFlight'),
    queryCipherSuites: o.queryCipherSuites ?? true,
    clock: o.clock ?? systemClock,
    randomBytes: o.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n))),
  };
}

/** Opens an authenticated, encrypted RMCP+ session. Rejects with an RmcpError (see errors.ts). */
export async function openSession(options: OpenSessionOptions): Promise<RmcpSession> {
  const o = resolveOptions(options);
  const transport = await connectUdp(o.host, o.port);
  try {
    return await establish(o, transport);
  } catch (err) {
    await transport.close();
    throw err;
  }
}

/**
 * Sends `datagram` and waits for a datagram `parse` recognises, sending it
 * again word for word each time the RTO passes, for `budgetMs` (and at most
 * `maxSends` times); undefined when nothing came. Feeds `rtt` (Karn: only an
 * answer to a single send is a measurement).
 */
function exchange<T>(
  o: Resolved,
  transport: DatagramTransport,
  rtt: RttEstimator,
  datagram: Uint8Array,
  parse: (d: Uint8Array) => T | undefined,
  budgetMs: number,
  maxSends = Number.POSITIVE_INFINITY,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const firstSentAt = o.clock.now();
    let sends = 0;
    let level = rtt.backoffLevel;
    let timer: unknown;
    const finish = (v: T | undefined): void => {
      if (timer !== undefined) o.clock.clearTimeout(timer);
      transport.onDatagram(() => undefined);
      resolve(v);
    };
    const send = (): void => {
      sends++;
      transport.send(datagram);
      const now = o.clock.now();
      timer = o.clock.setTimeout(onTimer, Math.max(0, Math.min(rtt.rtoMs, firstSentAt + budgetMs - now)));
    };
    const onTimer = (): void => {
      timer = undefined;
      if (o.clock.now() - firstSentAt >= budgetMs || sends >= maxSends) return finish(undefined);
      level = rtt.timedOut(sends, level);
      send();
    };
    transport.onDatagram((d) => {
      const v = parse(d);
      if (v === undefined) return;
      if (sends === 1) rtt.sample(o.clock.now() - firstSentAt);
      finish(v);
    });
    send();
  });
}

function randomU32(o: Resolved): number {
  for (;;) {
    const b = o.randomBytes(4);
    const n = ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
    if (n !== 0) return n;
  }
}

async function preSession(o: Resolved, transport: DatagramTransport, rtt: RttEstimator, framing: 'v15' | 'v20', cmd: number, data: Uint8Array, rqSeq: number, maxSends?: number) {
  const d = buildPreSessionRequest(framing, NetFn.APP, cmd, data, rqSeq);
  return exchange(o, transport, rtt, d, (r) => parsePreSessionResponse(r, NetFn.APP, cmd, rqSeq), o.giveUpMs, maxSends);
}

async function establish(o: Resolved, transport: DatagramTransport): Promise<RmcpSession> {
  const where = `${o.host}:${o.port}`;
  const rtt = new RttEstimator(o.rto);
  const caps = await preSession(o, transport, rtt, 'v15', AppCommand.GET_CHANNEL_AUTH_CAPABILITIES, encodeChannelAuthCapabilitiesRequest({ channel: CURRENT_CHANNEL, extendedData: true, requestedPrivilege: o.privilege }), 1);
  if (!caps) throw new RmcpError('ERR_RMCP_TIMEOUT', `no answer from ${where} to Get Channel Authentication Capabilities`);
  if (caps.cc !== 0) throw new RmcpError('ERR_RMCP_HANDSHAKE_FAILED', `${where} refused Get Channel Authentication Capabilities (cc 0x${caps.cc.toString(16)})`);
  try {
    const c = decodeChannelAuthCapabilities(caps.data);
    if (!c.extendedCapabilities || !c.supportsIpmi20) throw new RmcpError('ERR_RMCP_HANDSHAKE_FAILED', `${where} does not support IPMI v2.0 / RMCP+`);
  } catch (err) {
    if (isWireError(err)) throw new RmcpError('ERR_RMCP_HANDSHAKE_FAILED', `${where} sent malformed authentication capabilities: ${err.message}`);
    throw err;
  }

  let candidates = o.suites;
  if (o.queryCipherSuites) {
    const offered = await queryCipherSuites(o, transport, rtt);
    if (offered) candidates = o.suites.filter((s) => offered.includes(s));
    if (candidates.length === 0) throw new RmcpError('ERR_RMCP_NO_COMMON_SUITE', `${where} offers cipher suites [${offered?.join(', ')}], none of [${o.suites.join(', ')}]`);
  }

  let timedOut = false;
  for (const suite of candidates) {
    for (let attempt = 0; attempt < HANDSHAKE_ATTEMPTS; attempt++) {
      const outcome = await handshakeOnce(o, transport, rtt, suite);
      if (outcome === 'timeout') {
        timedOut = true;
        continue;
      }
      if (outcome === 'suite-refused') break;
      return outcome;
    }
  }
  if (timedOut) throw new RmcpError('ERR_RMCP_TIMEOUT', `session establishment with ${where} timed out (a step went ${o.giveUpMs} ms without an answer, ${HANDSHAKE_ATTEMPTS} attempt(s))`);
  throw new RmcpError('ERR_RMCP_NO_COMMON_SUITE', `${where} accepted none of cipher suites [${candidates.join(', ')}]`);
}

/** The standard suites the BMC lists, or undefined when it does not answer Get Channel Cipher Suites before a session. */
async function queryCipherSuites(o: Resolved, transport: DatagramTransport, rtt: RttEstimator): Promise<number[] | undefined> {
  const slices: Uint8Array[] = [];
  for (let index = 0; index <= MAX_CIPHER_SUITE_LIST_INDEX; index++) {
    const data = encodeChannelCipherSuitesRequest({ channel: CURRENT_CHANNEL, payloadType: PayloadType.IPMI, listBySuite: true, listIndex: index });
    // IPMI 1.5 framing, as ipmitool sends it: ipmi_sim answers only that form before a session.
    // A few sends only: a BMC that ignores this before a session should not cost the whole give-up time
    // (and when all are lost, the suites are simply tried in order).
    const r = await preSession(o, transport, rtt, 'v15', AppCommand.GET_CHANNEL_CIPHER_SUITES, data, 2 + (index % 60), CIPHER_SUITE_QUERY_SENDS);
    if (!r || r.cc !== 0) return undefined;
    try {
      const slice = decodeChannelCipherSuitesResponse(r.data).recordData;
      slices.push(slice);
      if (slice.length < CIPHER_SUITE_SLICE_BYTES) break;
    } catch (err) {
      if (isWireError(err)) return undefined;
      throw err;
    }
  }
  const all = new Uint8Array(slices.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of slices) {
    all.set(s, at);
    at += s.length;
  }
  try {
    return offeredStandardSuites(decodeCipherSuiteRecords(all));
  } catch (err) {
    if (isWireError(err)) return undefined;
    throw err;
  }
}

async function handshakeOnce(o: Resolved, transport: DatagramTransport, rtt: RttEstimator, suite: number): Promise<RmcpSession | 'timeout' | 'suite-refused'> {
  const where = `${o.host}:${o.port}`;
  const h: HandshakeInput = {
    userName: o.userName,
    kuid: o.kuid,
    privilege: o.privilege,
    suite,
    consoleSessionId: randomU32(o),
    remoteConsoleRandom: o.randomBytes(16),
    messageTag: o.randomBytes(1)[0] ?? 0,
  };
  // Each message is sent again, word for word, until answered (for up to giveUpMs):
  // the BMC answers a repeated RAKP 1 or RAKP 3 with the same reply. Starting a new
  // handshake instead would leave this one half open after RAKP 2, which a BMC counts
  // as a failed login: a few lost datagrams would lock the user out.
  const budget = o.giveUpMs;
  const opened = await exchange(o, transport, rtt, buildOpenSessionRequest(h), (d) => parseOpenSessionResponse(h, d), budget);
  if (!opened) return 'timeout';
  if (opened.kind === 'refused') {
    if (SUITE_REFUSALS.has(opened.status)) return 'suite-refused';
    throw refusalError(where, 'Open Session', opened.status);
  }
  const rakp2 = await exchange(o, transport, rtt, buildRakp1(h, opened.bmcSessionId), (d) => parseRakp2(h, opened.bmcSessionId, d), budget);
  if (!rakp2) return 'timeout';
  if (rakp2.kind === 'refused') throw refusalError(where, 'RAKP message 1', rakp2.status);
  if (rakp2.kind === 'bad-proof') {
    // Tell the BMC to drop the half-open session, as ipmitool does.
    transport.send(buildRakp3(h, rakp2.ctx, RmcpStatus.INVALID_INTEGRITY_CHECK_VALUE));
    throw badRakp2ProofError(where);
  }
  const ctx = rakp2.ctx;
  const rakp4 = await exchange(o, transport, rtt, buildRakp3(h, ctx), (d) => parseRakp4(h, ctx, d), budget);
  if (!rakp4) return 'timeout';
  if (rakp4.kind === 'refused') throw refusalError(where, 'RAKP message 3', rakp4.status);
  if (rakp4.kind === 'bad-proof') throw badRakp4ProofError(where);

  const state = new SessionState({
    crypto: rakp4.crypto,
    bmcSessionId: opened.bmcSessionId,
    consoleSessionId: h.consoleSessionId,
    randomBytes: o.randomBytes,
    rtt,
    giveUpMs: o.giveUpMs,
    now: o.clock.now(),
    maxInFlight: o.maxInFlight,
  });
  const session = new RmcpSession(
    { host: o.host, port: o.port, cipherSuite: suite, privilege: o.privilege, bmcSessionId: opened.bmcSessionId, consoleSessionId: h.consoleSessionId },
    transport,
    state,
    o.clock,
    { keepAliveMs: o.keepAliveMs, closeTimeoutMs: o.timeoutMs, giveUpMs: o.giveUpMs },
  );
  let priv;
  try {
    priv = await session.request(NetFn.APP, AppCommand.SET_SESSION_PRIVILEGE_LEVEL, encodeSetSessionPrivilegeRequest(o.privilege));
  } catch (err) {
    await session.close();
    throw err;
  }
  if (priv.cc !== 0) {
    await session.close();
    throw privilegeRefusedError(where, o.privilege, priv.cc);
  }
  return session;
}
