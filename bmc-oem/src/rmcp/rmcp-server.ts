/**
 * The RMCP+ server core, without sockets: one datagram in, at most one
 * datagram out. It classifies (ASF / IPMI v1.5 pre-session / IPMI v2.0),
 * runs the handshake, checks a session packet (sequence window, constant-
 * time AuthCode, decryption) and dispatches IPMI requests to the command
 * table. Every failure is reported through `events.datagramDropped` and
 * turned into "no answer"; nothing thrown here reaches the socket.
 */
import {
  ASF_IANA,
  decodeIpmiLanRequest,
  decodeRmcpDatagram,
  encodeIpmiLanResponse,
  encodeRmcpDatagram,
  isWireError,
  PayloadType,
  peekIpmi20Session,
  pooledRandomBytes,
  responseNetFn,
  SessionCipher,
  type IpmiLanRequest,
  type RandomBytes,
  type WireError,
} from '@backchannel/proto';
import type { CommandRegistry, DispatchOutcome } from '../commands/registry.js';
import type { CommandContext, SessionControl, SessionSummary } from '../commands/command-types.js';
import { Privilege, type PrivilegeLevel } from '../commands/privilege.js';
import type { LoginThrottleConfig, SessionLimits } from '../config/config-types.js';
import { Handshake } from './handshake.js';
import { LoginThrottle } from './login-throttle.js';
import type { UserDirectory } from './user-directory.js';
import { NO_EVENTS, type DropReason, type RmcpEvents } from './rmcp-events.js';
import { SessionTable, type Session } from './session-table.js';

export interface RmcpServerOptions {
  registry: CommandRegistry;
  users: UserDirectory;
  cipherSuites: readonly number[];
  sessions: SessionLimits;
  /** Login throttling: a shared instance (it outlives a cold reset of the server), or its settings. */
  throttle: LoginThrottle | LoginThrottleConfig;
  /** The highest privilege a session may reach with a suite (LAN configuration parameter 24). */
  suitePrivilegeLimit?: (suite: number) => PrivilegeLevel;
  guid: Uint8Array;
  now: () => number;
  randomBytes: RandomBytes;
  events?: RmcpEvents;
  /**
   * SOL payloads (type 0x01) of an active session go here (bmc-oem/src/sol);
   * the returned SOL payload, if any, is the reply. Without it SOL is refused.
   */
  solPayload?: (sessionId: number, payload: Uint8Array) => Uint8Array | undefined;
}

/** A reply datagram, or none; synchronous when nothing on the way was asynchronous. */
export type Reply = Uint8Array | undefined | Promise<Uint8Array | undefined>;

/** ASF pong "supported entities": bit 7 IPMI supported, ASF version 1.0 (§3.2.4.2). */
const ASF_ENTITIES_IPMI = 0x81;

class DropError extends Error {
  constructor(
    readonly reason: DropReason,
    detail: string,
  ) {
    super(detail);
  }
}

function reasonFor(err: WireError): DropReason {
  switch (err.code) {
    case 'ERR_IPMI_INTEGRITY':
    case 'ERR_IPMI_NOT_PROTECTED':
    case 'ERR_IPMI_PADDING':
      return 'integrity';
    case 'ERR_IPMI_CHECKSUM':
      return 'checksum';
    case 'ERR_IPMI_UNSUPPORTED':
      return 'unsupported';
    default:
      return 'malformed';
  }
}

export class RmcpServer {
  readonly sessions: SessionTable;
  readonly throttle: LoginThrottle;
  private readonly handshake: Handshake;
  private readonly events: RmcpEvents;
  /** IVs for sealed replies, drawn from `randomBytes` in blocks. */
  private readonly ivRandom: RandomBytes;

  constructor(private readonly opts: RmcpServerOptions) {
    this.events = opts.events ?? NO_EVENTS;
    this.ivRandom = pooledRandomBytes(opts.randomBytes);
    this.sessions = new SessionTable(opts.sessions, opts.now, opts.randomBytes);
    this.throttle = opts.throttle instanceof LoginThrottle ? opts.throttle : new LoginThrottle(opts.throttle, opts.now);
    this.handshake = new Handshake({
      table: this.sessions,
      users: opts.users,
      throttle: this.throttle,
      perUser: opts.sessions.perUser,
      ...(opts.suitePrivilegeLimit === undefined ? {} : { suitePrivilegeLimit: opts.suitePrivilegeLimit }),
      suites: opts.cipherSuites,
      guid: opts.guid,
      randomBytes: opts.randomBytes,
      events: this.events,
    });
  }

  /**
   * Handles one datagram from `peer`; resolves to the reply datagram or
   * undefined. Never rejects.
   */
  async handleDatagram(datagram: Uint8Array, peer: string): Promise<Uint8Array | undefined> {
    return this.handleDatagramNow(datagram, peer);
  }

  /**
   * handleDatagram, answering synchronously when no command handler on the
   * way is asynchronous (the usual case), so the transport can send the
   * reply in the same turn of the event loop. A returned promise never
   * rejects.
   */
  handleDatagramNow(datagram: Uint8Array, peer: string): Reply {
    let reply: Reply;
    try {
      reply = this.handle(datagram, peer);
    } catch (err) {
      this.dropped(err, peer);
      return undefined;
    }
    if (reply instanceof Promise) {
      return reply.catch((err: unknown) => {
        this.dropped(err, peer);
        return undefined;
      });
    }
    return reply;
  }

  private dropped(err: unknown, peer: string): void {
    if (err instanceof DropError) this.events.datagramDropped(err.reason, peer, err.message);
    else if (isWireError(err)) this.events.datagramDropped(reasonFor(err), peer, err.message);
    else this.events.datagramDropped('internal', peer, err instanceof Error ? (err.stack ?? err.message) : String(err));
  }

  /** Removes expired sessions; an abandoned handshake after RAKP 2 counts as a failed login. Call periodically. */
  sweep(): void {
    const t = this.opts.now();
    for (const s of [...this.sessions.all()]) {
      if (s.state !== 'active' && t - s.createdAt >= this.opts.sessions.setupTimeoutMs) this.handshake.endUnfinished(s, 'setup-timeout');
    }
    for (const { session, why } of this.sessions.expire()) this.events.sessionEnded(session, why);
  }

  /** Closes every session (shutdown, cold reset); `why` says which for the logs. */
  closeAll(why: 'shutdown' | 'reset' = 'shutdown'): void {
    for (const s of [...this.sessions.all()]) {
      this.sessions.remove(s.id);
      this.events.sessionEnded(s, why);
    }
  }

  /** Active sessions for Get Session Info, oldest first. */
  activeSessions(): SessionSummary[] {
    return this.sessions.activeSessions().map((s) => ({ id: s.id, handle: s.handle, userId: s.user?.id ?? 0, privilege: s.privilege, peer: s.peer }));
  }

  /** Closes another session by id (Close Session from an administrator). */
  closeSessionById(id: number): 'closed' | 'not-found' {
    const s = this.sessions.remove(id);
    if (s === undefined) return 'not-found';
    this.events.sessionEnded(s, 'closed-by-admin');
    return 'closed';
  }

  private handle(datagram: Uint8Array, peer: string): Reply {
    // The common case first: a packet inside a session, looked at in place.
    const peek = peekIpmi20Session(datagram);
    if (peek !== undefined && peek.sessionId !== 0) return this.inSession(datagram, peek.sessionId, peek.sessionSeq, peek.payloadType);
    return this.outsideSession(datagram, peer);
  }

  private async outsideSession(datagram: Uint8Array, peer: string): Promise<Uint8Array | undefined> {
    const d = decodeRmcpDatagram(datagram);
    if (d.kind === 'asf') {
      if (d.message.kind !== 'ping') throw new DropError('protocol', 'ASF message that is not a presence ping');
      return encodeRmcpDatagram({
        kind: 'asf',
        sequence: d.sequence,
        message: { kind: 'pong', messageTag: d.message.messageTag, oemIana: ASF_IANA, oemDefined: 0, supportedEntities: ASF_ENTITIES_IPMI, supportedInteractions: 0 },
      });
    }
    if (d.kind === 'ipmi15') {
      // Only the pre-session form (auth type none, session 0) is decoded at
      // all; it carries Get Channel Authentication Capabilities.
      if (d.session.sessionId !== 0 || d.session.sessionSeq !== 0) throw new DropError('unsupported', 'IPMI v1.5 session packet');
      const response = await this.answer(decodeIpmiLanRequest(d.session.message), undefined);
      return encodeRmcpDatagram({ kind: 'ipmi15', session: { sessionSeq: 0, sessionId: 0, message: response } });
    }
    const s = d.session;
    if (s.sessionId === 0) {
      if (s.authenticated || s.encrypted) throw new DropError('protocol', 'protected packet outside a session');
      const out = await this.preSession(s.payloadType, s.payload, peer);
      return encodeRmcpDatagram({
        kind: 'ipmi20',
        session: { payloadType: out.payloadType, encrypted: false, authenticated: false, sessionId: 0, sessionSeq: 0, payload: out.payload, trailer: new Uint8Array(0) },
      });
    }
    return this.inSession(datagram, s.sessionId, s.sessionSeq, s.payloadType);
  }

  private async preSession(payloadType: number, payload: Uint8Array, peer: string): Promise<{ payloadType: number; payload: Uint8Array }> {
    let outcome;
    switch (payloadType) {
      case PayloadType.IPMI:
        return { payloadType: PayloadType.IPMI, payload: await this.answer(decodeIpmiLanRequest(payload), undefined) };
      case PayloadType.OPEN_SESSION_REQUEST:
        this.sweep();
        outcome = this.handshake.openSession(payload, peer);
        break;
      case PayloadType.RAKP1:
        outcome = this.handshake.rakp1(payload, peer);
        break;
      case PayloadType.RAKP3:
        outcome = this.handshake.rakp3(payload, peer);
        break;
      default:
        throw new DropError('unsupported', `payload type 0x${payloadType.toString(16)} outside a session`);
    }
    if (outcome.kind === 'drop') throw new DropError(outcome.reason, outcome.detail);
    return { payloadType: outcome.payloadType, payload: outcome.payload };
  }

  private inSession(datagram: Uint8Array, id: number, seq: number, payloadType: number): Reply {
    const session = this.sessions.get(id);
    if (session === undefined) throw new DropError('unknown-session', `session 0x${id.toString(16)}`);
    if (session.state !== 'active' || session.keys === undefined) throw new DropError('inactive-session', `session 0x${id.toString(16)} in state ${session.state}`);
    const sol = payloadType === PayloadType.SOL ? this.opts.solPayload : undefined;
    if (payloadType !== PayloadType.IPMI && sol === undefined) throw new DropError('unsupported', `payload type 0x${payloadType.toString(16)} in a session`);
    // Cheap window check first; commit only after the AuthCode verified, so
    // forged packets can neither replay nor move the window.
    const verdict = session.inbound.check(seq);
    if (verdict === 'duplicate') throw new DropError('replay', `session 0x${id.toString(16)} seq ${seq}`);
    if (verdict !== 'ok') throw new DropError('sequence-window', `session 0x${id.toString(16)} seq ${seq}: ${verdict}`);
    const cipher = (session.cipher ??= new SessionCipher({
      integrityAlgorithm: session.algorithms.integrity,
      confidentialityAlgorithm: session.algorithms.confidentiality,
      k1: session.keys.k1,
      k2: session.keys.k2,
    }));
    const msg = cipher.open(datagram);
    session.inbound.commit(seq);
    this.sessions.touch(session);
    if (sol !== undefined) {
      const reply = sol(session.id, msg.payload);
      return reply === undefined ? undefined : this.sealReply(session, cipher, reply, PayloadType.SOL);
    }
    const request = decodeIpmiLanRequest(msg.payload);
    const response = this.answer(request, session);
    if (response instanceof Promise) return response.then((r) => this.sealReply(session, cipher, r));
    return this.sealReply(session, cipher, response);
  }

  /**
   * Seals a payload the BMC sends on its own (SOL output from the host) in
   * an active session; undefined when the session is gone.
   */
  sealPayload(sessionId: number, payloadType: number, payload: Uint8Array): { datagram: Uint8Array; peer: string } | undefined {
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.state !== 'active' || session.keys === undefined) return undefined;
    const cipher = (session.cipher ??= new SessionCipher({
      integrityAlgorithm: session.algorithms.integrity,
      confidentialityAlgorithm: session.algorithms.confidentiality,
      k1: session.keys.k1,
      k2: session.keys.k2,
    }));
    const datagram = this.sealReply(session, cipher, payload, payloadType);
    return datagram && { datagram, peer: session.peer };
  }

  private sealReply(session: Session, cipher: SessionCipher, response: Uint8Array, payloadType: number = PayloadType.IPMI): Uint8Array | undefined {
    // The session may have been closed by another request while this one ran.
    if (this.sessions.get(session.id) !== session) return undefined;
    session.outboundSeq = session.outboundSeq >= 0xffffffff ? 1 : session.outboundSeq + 1;
    const out = cipher.seal({ sessionId: session.consoleId, sessionSeq: session.outboundSeq, payloadType, payload: response }, this.ivRandom);
    if (session.closing) {
      this.sessions.remove(session.id);
      this.events.sessionEnded(session, 'closed');
    }
    return out;
  }

  /** The handle a command gets on its session; one per session, made on first use. */
  private control(session: Session): SessionControl {
    if (session.control !== undefined) return session.control;
    const control: SessionControl = {
      id: session.id,
      handle: session.handle,
      get userName() {
        return session.user?.name ?? '';
      },
      get userId() {
        return session.user?.id ?? 0;
      },
      get maxPrivilege() {
        return session.maxPrivilege;
      },
      setPrivilege: (level: PrivilegeLevel) => {
        session.privilege = level;
      },
      closeAfterResponse: () => {
        session.closing = true;
      },
    };
    session.control = control;
    return control;
  }

  /** Dispatches a LAN request and encodes the LAN response message. */
  private answer(req: IpmiLanRequest, session: Session | undefined): Uint8Array | Promise<Uint8Array> {
    if (req.netFn % 2 !== 0) throw new DropError('protocol', `response NetFn 0x${req.netFn.toString(16)} sent to the BMC`);
    const ctx: CommandContext =
      session === undefined
        ? { channel: 'lan', privilege: Privilege.Callback, lun: req.rsLun }
        : { channel: 'lan', privilege: session.privilege, session: this.control(session), lun: req.rsLun };
    const out = this.opts.registry.dispatchNow(ctx, { netfn: req.netFn, cmd: req.cmd, data: req.data });
    if (out instanceof Promise) return out.then((o) => this.respond(req, o, session === undefined));
    return this.respond(req, out, session === undefined);
  }

  private respond(req: IpmiLanRequest, out: DispatchOutcome, presession: boolean): Uint8Array {
    this.events.commandAnswered(out.name, req.netFn, req.cmd, out.cc, presession);
    return encodeIpmiLanResponse({
      rqAddr: req.rqAddr,
      netFn: responseNetFn(req.netFn),
      rqLun: req.rqLun,
      rsAddr: req.rsAddr,
      rqSeq: req.rqSeq,
      rsLun: req.rsLun,
      cmd: req.cmd,
      cc: out.cc,
      data: out.data,
    });
  }
}
