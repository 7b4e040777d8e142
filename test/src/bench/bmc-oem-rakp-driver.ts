/**
 * A minimal RMCP+ console for load and fuzz drivers, built only from the
 * proto codecs: Open Session, RAKP 1-4, Set Session Privilege Level and
 * sealed (authenticated + encrypted) IPMI requests. One UDP socket carries
 * every session; responses are routed by the console session id they carry.
 *
 * vms-agent's client is the product; this driver exists because a load test
 * wants a thousand sessions without a socket, timers and keep-alives each,
 * and the daemon fuzzer needs what a product client rightly hides: the
 * session keys (to seal mutated requests the BMC will authenticate) and the
 * handshake one step at a time (to aim RAKP 1 and RAKP 3 at live sessions).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import {
  AppCommand,
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
  encodeSetSessionPrivilegeRequest,
  IpmbAddress,
  NetFn,
  NO_SESSION_CRYPTO,
  openIpmi2Packet,
  passwordKey,
  PayloadType,
  Privilege,
  RAKP_NAME_ONLY_LOOKUP,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  type RakpContext,
  readU32LE,
  sealIpmi2Packet,
  type SessionCrypto,
  utf8,
} from '@backchannel/proto';

const random = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));
const noRandom = (): Uint8Array => new Uint8Array(0);

export interface DriverLogin {
  user: string;
  password: string;
  /** 2 user, 3 operator, 4 administrator. */
  privilege: number;
  suite: 3 | 17;
}

/** A handshake in progress (after Open Session). */
export interface DriverHandshake {
  login: DriverLogin;
  consoleSessionId: number;
  bmcSessionId: number;
  messageTag: number;
  consoleRandom: Uint8Array;
  userName: Uint8Array;
  kuid: Uint8Array;
}

export interface DriverSession {
  consoleSessionId: number;
  bmcSessionId: number;
  crypto: SessionCrypto;
  /** Next session sequence number to send. */
  nextSeq: number;
  /** Next 6-bit IPMI rqSeq. */
  rqSeq: number;
}

export class DriverError extends Error {
  /** The RMCP+ status the BMC refused with, when it did. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** Builds a pre-session RMCP+ datagram (session id 0, no integrity, no encryption). */
export function preSessionDatagram(payloadType: number, payload: Uint8Array): Uint8Array {
  return sealIpmi2Packet(NO_SESSION_CRYPTO, { sessionId: 0, sessionSeq: 0, payloadType, payload }, noRandom);
}

/** The LAN request message a console sends to the BMC. */
export function lanRequest(netFn: number, cmd: number, data: Uint8Array, rqSeq: number): Uint8Array {
  return encodeIpmiLanRequest({ rsAddr: IpmbAddress.BMC, netFn, rsLun: 0, rqAddr: IpmbAddress.REMOTE_CONSOLE, rqSeq: rqSeq & 0x3f, rqLun: 0, cmd, data });
}

export class RakpDriver {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #port: number;
  /** One waiter per console session id: each session has one exchange outstanding at a time. */
  readonly #waiters = new Map<number, (datagram: Uint8Array) => boolean>();
  readonly #sessions = new Map<number, DriverSession>();
  timeoutMs = 1000;
  retries = 3;

  private constructor(socket: Socket, host: string, port: number) {
    this.#socket = socket;
    this.#host = host;
    this.#port = port;
    socket.on('message', (msg) => this.#receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)));
  }

  /** `localAddress`: the source address the BMC sees (another 127.0.0.0/8 address plays a second machine). */
  static async open(host: string, port: number, localAddress = '127.0.0.1'): Promise<RakpDriver> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, localAddress, () => resolve()));
    // A thousand sessions answering at once must not overflow the default receive buffer.
    socket.setRecvBufferSize(4 * 1024 * 1024);
    return new RakpDriver(socket, host, port);
  }

  /** Sends raw bytes to the BMC (fire and forget). */
  send(datagram: Uint8Array): void {
    this.#socket.send(datagram, this.#port, this.#host);
  }

  async close(): Promise<void> {
    this.#waiters.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  /** Open Session Request → Response; the session is then pending on the BMC, waiting for RAKP 1. */
  async begin(login: DriverLogin): Promise<DriverHandshake> {
    const algs = cipherSuiteAlgorithms(login.suite);
    if (algs === undefined) throw new DriverError(`unknown suite ${login.suite}`);
    const consoleSessionId = this.#newConsoleId();
    const messageTag = random(1)[0] ?? 0;
    const request = preSessionDatagram(
      PayloadType.OPEN_SESSION_REQUEST,
      encodeOpenSessionRequest({ messageTag, requestedPrivilege: 0, remoteConsoleSessionId: consoleSessionId, ...algs }),
    );
    const payload = await this.#exchange(consoleSessionId, request, PayloadType.OPEN_SESSION_RESPONSE);
    const r = decodeOpenSessionResponse(payload);
    if (!('managedSystemSessionId' in r)) throw new DriverError(`Open Session refused with status 0x${r.status.toString(16)}`, r.status);
    return { login, consoleSessionId, bmcSessionId: r.managedSystemSessionId, messageTag, consoleRandom: random(16), userName: utf8(login.user), kuid: passwordKey(utf8(login.password)) };
  }

  rakp1Datagram(h: DriverHandshake): Uint8Array {
    return preSessionDatagram(
      PayloadType.RAKP1,
      encodeRakp1({ messageTag: h.messageTag, managedSystemSessionId: h.bmcSessionId, remoteConsoleRandom: h.consoleRandom, role: h.login.privilege | RAKP_NAME_ONLY_LOOKUP, userName: h.userName }),
    );
  }

  /**
   * RAKP 1 → RAKP 2; checks the BMC's proof and returns the context RAKP 3 and the keys come from.
   * `check: false` keeps a RAKP 2 whose proof does not verify (a client with a wrong password
   * goes on to send a RAKP 3 the BMC refuses, as a guessing attacker does).
   */
  async rakp12(h: DriverHandshake, check = true): Promise<RakpContext> {
    const r = decodeRakp2(await this.#exchange(h.consoleSessionId, this.rakp1Datagram(h), PayloadType.RAKP2));
    if (!('managedSystemRandom' in r)) throw new DriverError(`RAKP 1 refused with status 0x${r.status.toString(16)}`, r.status);
    const algs = cipherSuiteAlgorithms(h.login.suite);
    const ctx: RakpContext = {
      authAlgorithm: algs?.authAlgorithm ?? 0,
      remoteConsoleSessionId: h.consoleSessionId,
      managedSystemSessionId: h.bmcSessionId,
      remoteConsoleRandom: h.consoleRandom,
      managedSystemRandom: r.managedSystemRandom,
      managedSystemGuid: r.managedSystemGuid,
      role: h.login.privilege | RAKP_NAME_ONLY_LOOKUP,
      userName: h.userName,
    };
    if (check && !constantTimeEqual(rakp2AuthCode(ctx, h.kuid), r.keyExchangeAuthCode)) throw new DriverError('RAKP 2 proof does not verify');
    return ctx;
  }

  rakp3Datagram(h: DriverHandshake, ctx: RakpContext): Uint8Array {
    return preSessionDatagram(
      PayloadType.RAKP3,
      encodeRakp3({ messageTag: h.messageTag, status: 0, managedSystemSessionId: h.bmcSessionId, keyExchangeAuthCode: rakp3AuthCode(ctx, h.kuid) }),
    );
  }

  /** RAKP 3 → RAKP 4; the session is active (at USER privilege) afterwards. */
  async rakp34(h: DriverHandshake, ctx: RakpContext): Promise<DriverSession> {
    const r = decodeRakp4(await this.#exchange(h.consoleSessionId, this.rakp3Datagram(h, ctx), PayloadType.RAKP4));
    if (r.status !== 0) throw new DriverError(`RAKP 3 refused with status 0x${r.status.toString(16)}`, r.status);
    const keys = deriveSessionKeys(ctx, h.kuid);
    if (!constantTimeEqual(rakp4Icv(ctx, keys.sik), r.integrityCheckValue)) throw new DriverError('RAKP 4 ICV does not verify');
    const algs = cipherSuiteAlgorithms(h.login.suite);
    const session: DriverSession = {
      consoleSessionId: h.consoleSessionId,
      bmcSessionId: h.bmcSessionId,
      crypto: { integrityAlgorithm: algs?.integrityAlgorithm ?? 0, confidentialityAlgorithm: algs?.confidentialityAlgorithm ?? 0, k1: keys.k1, k2: keys.k2 },
      nextSeq: 1,
      rqSeq: 1,
    };
    this.#sessions.set(h.consoleSessionId, session);
    return session;
  }

  /** The whole handshake, then Set Session Privilege Level up to the login's privilege. */
  async openSession(login: DriverLogin): Promise<DriverSession> {
    const h = await this.begin(login);
    const session = await this.rakp34(h, await this.rakp12(h));
    if (login.privilege > Privilege.USER) {
      const r = await this.request(session, NetFn.APP, AppCommand.SET_SESSION_PRIVILEGE_LEVEL, encodeSetSessionPrivilegeRequest(login.privilege));
      if (r.cc !== 0) throw new DriverError(`Set Session Privilege Level ${login.privilege} answered 0x${r.cc.toString(16)}`);
    }
    return session;
  }

  /** A sealed in-session datagram carrying `lanMessage`, using (and advancing) the session's sequence number. */
  seal(session: DriverSession, lanMessage: Uint8Array): Uint8Array {
    const seq = session.nextSeq;
    session.nextSeq = seq >= 0xffffffff ? 1 : seq + 1;
    return sealIpmi2Packet(session.crypto, { sessionId: session.bmcSessionId, sessionSeq: seq, payloadType: PayloadType.IPMI, payload: lanMessage }, random);
  }

  /** One IPMI request in the session; resolves with the completion code and data. */
  async request(session: DriverSession, netFn: number, cmd: number, data: Uint8Array = new Uint8Array(0)): Promise<{ cc: number; data: Uint8Array }> {
    const rqSeq = session.rqSeq;
    session.rqSeq = (rqSeq + 1) & 0x3f || 1;
    const message = lanRequest(netFn, cmd, data, rqSeq);
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      // A retransmission is a new packet (new session seq) carrying the same rqSeq, as IPMI v2.0 §6.12.8 allows.
      const reply = await this.#await(session.consoleSessionId, this.seal(session, message), (d) => {
        const parsed = decodeRmcpDatagram(d);
        if (parsed.kind !== 'ipmi20' || parsed.session.sessionId !== session.consoleSessionId) return undefined;
        const res = decodeIpmiLanResponse(openIpmi2Packet(session.crypto, d).payload);
        return res.rqSeq === rqSeq && res.cmd === cmd ? { cc: res.cc, data: res.data } : undefined;
      });
      if (reply !== undefined) return reply;
    }
    throw new DriverError(`no answer to netfn 0x${netFn.toString(16)} cmd 0x${cmd.toString(16)} in session 0x${session.bmcSessionId.toString(16)}`);
  }

  #newConsoleId(): number {
    for (;;) {
      const id = readU32LE(random(4), 0);
      if (id !== 0 && !this.#waiters.has(id) && !this.#sessions.has(id)) return id;
    }
  }

  /** Sends a pre-session request (with retries) and returns the payload of the matching answer. */
  async #exchange(consoleId: number, datagram: Uint8Array, payloadType: number): Promise<Uint8Array> {
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      const payload = await this.#await(consoleId, datagram, (d) => {
        const parsed = decodeRmcpDatagram(d);
        if (parsed.kind !== 'ipmi20' || parsed.session.sessionId !== 0 || parsed.session.payloadType !== payloadType) return undefined;
        return parsed.session.payload;
      });
      if (payload !== undefined) return payload;
    }
    throw new DriverError(`no answer for payload type 0x${payloadType.toString(16)} (console session 0x${consoleId.toString(16)})`);
  }

  /** Sends once and waits up to timeoutMs for a datagram `match` accepts; undefined on timeout. */
  #await<T>(consoleId: number, datagram: Uint8Array, match: (d: Uint8Array) => T | undefined): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(consoleId);
        resolve(undefined);
      }, this.timeoutMs);
      this.#waiters.set(consoleId, (d) => {
        let v: T | undefined;
        try {
          v = match(d);
        } catch {
          return false; // not ours, or not decodable: keep waiting
        }
        if (v === undefined) return false;
        clearTimeout(timer);
        this.#waiters.delete(consoleId);
        resolve(v);
        return true;
      });
      this.send(datagram);
    });
  }

  /** Routes a datagram to its session: in-session by the header's session id, pre-session by the console id in the payload. */
  #receive(d: Uint8Array): void {
    let consoleId: number;
    try {
      const parsed = decodeRmcpDatagram(d);
      if (parsed.kind !== 'ipmi20') return;
      const s = parsed.session;
      consoleId = s.sessionId !== 0 ? s.sessionId : s.payload.length >= 8 ? readU32LE(s.payload, 4) : 0;
    } catch {
      return;
    }
    this.#waiters.get(consoleId)?.(d);
  }
}
