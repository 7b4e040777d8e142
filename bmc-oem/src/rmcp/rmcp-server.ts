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
  openIpmi2Packet,
  PayloadType,
  responseNetFn,
  sealIpmi2Packet,
  type IpmiLanRequest,
  type RandomBytes,
  type WireError,
} from '@backchannel/proto';
import type { CommandRegistry } from '../commands/registry.js';
import type { CommandContext, SessionControl } from '../commands/command-types.js';
import { Privilege, type PrivilegeLevel } from '../commands/privilege.js';
import type { LockoutConfig, SessionLimits, UserConfig } from '../config/config-types.js';
import { Handshake } from './handshake.js';
import { RakpLockout } from './rakp-lockout.js';
import { NO_EVENTS, type DropReason, type RmcpEvents } from './rmcp-events.js';
import { SessionTable, type Session } from './session-table.js';

export interface RmcpServerOptions {
  registry: CommandRegistry;
  users: readonly UserConfig[];
  cipherSuites: readonly number[];
  sessions: SessionLimits;
  lockout: LockoutConfig;
  guid: Uint8Array;
  now: () => number;
  randomBytes: RandomBytes;
  events?: RmcpEvents;
}

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
  readonly lockout: RakpLockout;
  private readonly handshake: Handshake;
  private readonly events: RmcpEvents;

  constructor(private readonly opts: RmcpServerOptions) {
    this.events = opts.events ?? NO_EVENTS;
    this.sessions = new SessionTable(opts.sessions, opts.now, opts.randomBytes);
    this.lockout = new RakpLockout(opts.lockout, opts.now, new Set(opts.users.map((u) => u.name)));
    this.handshake = new Handshake({
      table: this.sessions,
      users: new Map(opts.users.map((u) => [u.name, u])),
      lockout: this.lockout,
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
    try {
      return await this.handle(datagram, peer);
    } catch (err) {
      if (err instanceof DropError) this.events.datagramDropped(err.reason, peer, err.message);
      else if (isWireError(err)) this.events.datagramDropped(reasonFor(err), peer, err.message);
      else this.events.datagramDropped('internal', peer, err instanceof Error ? (err.stack ?? err.message) : String(err));
      return undefined;
    }
  }

  /** Removes expired sessions; an abandoned handshake after RAKP 2 counts as a failed login. Call periodically. */
  sweep(): void {
    for (const { session, why } of this.sessions.expire()) {
      if (why === 'setup-timeout' && session.state === 'rakp2-sent' && session.user !== undefined) {
        this.events.authFailed(session.user.name, 'handshake abandoned after RAKP 2', session.peer);
        this.handshake.noteFailure(session.user.name);
      }
      this.events.sessionEnded(session, why);
    }
  }

  /** Closes every session (shutdown). */
  closeAll(): void {
    for (const s of [...this.sessions.all()]) {
      this.sessions.remove(s.id);
      this.events.sessionEnded(s, 'shutdown');
    }
  }

  /** Closes another session by id (Close Session from an administrator). */
  closeSessionById(id: number): 'closed' | 'not-found' {
    const s = this.sessions.remove(id);
    if (s === undefined) return 'not-found';
    this.events.sessionEnded(s, 'closed-by-admin');
    return 'closed';
  }

  private async handle(datagram: Uint8Array, peer: string): Promise<Uint8Array | undefined> {
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

  private async inSession(datagram: Uint8Array, id: number, seq: number, payloadType: number): Promise<Uint8Array | undefined> {
    const session = this.sessions.get(id);
    if (session === undefined) throw new DropError('unknown-session', `session 0x${id.toString(16)}`);
    if (session.state !== 'active' || session.keys === undefined) throw new DropError('inactive-session', `session 0x${id.toString(16)} in state ${session.state}`);
    if (payloadType !== PayloadType.IPMI) throw new DropError('unsupported', `payload type 0x${payloadType.toString(16)} in a session`);
    // Cheap window check first; commit only after the AuthCode verified, so
    // forged packets can neither replay nor move the window.
    const verdict = session.inbound.check(seq);
    if (verdict === 'duplicate') throw new DropError('replay', `session 0x${id.toString(16)} seq ${seq}`);
    if (verdict !== 'ok') throw new DropError('sequence-window', `session 0x${id.toString(16)} seq ${seq}: ${verdict}`);
    const crypto = {
      integrityAlgorithm: session.algorithms.integrity,
      confidentialityAlgorithm: session.algorithms.confidentiality,
      k1: session.keys.k1,
      k2: session.keys.k2,
    };
    const msg = openIpmi2Packet(crypto, datagram);
    session.inbound.commit(seq);
    this.sessions.touch(session);
    const request = decodeIpmiLanRequest(msg.payload);
    const response = await this.answer(request, session);
    // The session may have been closed by another request while this one ran.
    if (this.sessions.get(id) !== session) return undefined;
    session.outboundSeq = session.outboundSeq >= 0xffffffff ? 1 : session.outboundSeq + 1;
    const out = sealIpmi2Packet(crypto, { sessionId: session.consoleId, sessionSeq: session.outboundSeq, payloadType: PayloadType.IPMI, payload: response }, this.opts.randomBytes);
    if (session.closing) {
      this.sessions.remove(session.id);
      this.events.sessionEnded(session, 'closed');
    }
    return out;
  }

  private control(session: Session): SessionControl {
    return {
      id: session.id,
      userName: session.user?.name ?? '',
      maxPrivilege: session.maxPrivilege,
      setPrivilege: (level: PrivilegeLevel) => {
        session.privilege = level;
      },
      closeAfterResponse: () => {
        session.closing = true;
      },
    };
  }

  /** Dispatches a LAN request and encodes the LAN response message. */
  private async answer(req: IpmiLanRequest, session: Session | undefined): Promise<Uint8Array> {
    if (req.netFn % 2 !== 0) throw new DropError('protocol', `response NetFn 0x${req.netFn.toString(16)} sent to the BMC`);
    const ctx: CommandContext =
      session === undefined
        ? { channel: 'lan', privilege: Privilege.Callback, lun: req.rsLun }
        : { channel: 'lan', privilege: session.privilege, session: this.control(session), lun: req.rsLun };
    const out = await this.opts.registry.dispatch(ctx, { netfn: req.netFn, cmd: req.cmd, data: req.data });
    this.events.commandAnswered(out.name, req.netFn, req.cmd, out.cc, session === undefined);
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
