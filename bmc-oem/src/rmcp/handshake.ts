/**
 * The RMCP+ session establishment on the BMC side (IPMI v2.0 §13.17-13.23):
 * Open Session Request → Response, RAKP 1 → RAKP 2, RAKP 3 → RAKP 4. All
 * crypto is the pure code in @backchannel/proto; this file holds the rules:
 * which suites are offered, who may log in at which privilege, the bounds
 * per source and per user, login throttling, and constant-time comparison
 * of the console's proof.
 *
 * RAKP 2 status codes (what a client can tell apart, docs/bmc-oem.md):
 * - 0x0D for a null or unknown name, a disabled user, and a role above the
 *   user's privilege alike, so names cannot be told apart by the refusal
 *   (pyghmi asks for administrator first and falls back to operator on it);
 * - 0x01 when this source must wait after failed logins for this name, or
 *   the name already holds `sessions.perUser` sessions: "try again later".
 * A wrong password shows as RAKP 4 status 0x0F (and in the RAKP 2 HMAC).
 */
import {
  AuthAlgorithm,
  bytesEqual,
  cipherSuiteAlgorithms,
  constantTimeEqual,
  decodeOpenSessionRequest,
  decodeRakp1,
  decodeRakp3,
  deriveSessionKeys,
  encodeOpenSessionResponse,
  encodeRakp2,
  encodeRakp4,
  passwordKey,
  PayloadType,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  RmcpStatus,
  type RakpContext,
  type RandomBytes,
} from '@backchannel/proto';
import { isPrivilegeLevel, Privilege, type PrivilegeLevel } from '../commands/privilege.js';
import type { LoginThrottle } from './login-throttle.js';
import type { DropReason, RmcpEvents, SessionEndReason } from './rmcp-events.js';
import type { Session, SessionTable } from './session-table.js';
import type { UserDirectory } from './user-directory.js';

export type HandshakeOutcome =
  | { kind: 'reply'; payloadType: number; payload: Uint8Array }
  | { kind: 'drop'; reason: DropReason; detail: string };

export interface HandshakeDeps {
  table: SessionTable;
  users: UserDirectory;
  throttle: LoginThrottle;
  /** Bound on sessions per user name (sessions.perUser). */
  perUser: number;
  /** Enabled cipher suite ids (3, 17); suite 0 can never be in it. */
  suites: readonly number[];
  /** The highest privilege a session may reach with a suite (LAN parameter 24), if limited. */
  suitePrivilegeLimit?: (suite: number) => PrivilegeLevel;
  /** The managed system GUID carried in RAKP 2 and hashed into it. */
  guid: Uint8Array;
  randomBytes: RandomBytes;
  events: RmcpEvents;
}

/** RAKP 2 status for "refused name or privilege": one code for every case, so names cannot be probed by it. */
export const RAKP_REFUSED = RmcpStatus.UNAUTHORIZED_NAME;
/** RAKP 2 / Open Session status for "not now": login throttled, or a session bound reached. */
export const RAKP_TRY_LATER = RmcpStatus.INSUFFICIENT_RESOURCES;

const ROLE_PRIVILEGE_MASK = 0x0f;
const ROLE_RESERVED_MASK = 0xe0;

function reply(payloadType: number, payload: Uint8Array): HandshakeOutcome {
  return { kind: 'reply', payloadType, payload };
}

function drop(reason: DropReason, detail: string): HandshakeOutcome {
  return { kind: 'drop', reason, detail };
}

function rakpContext(session: Session): RakpContext {
  if (session.user === undefined || session.consoleRandom === undefined || session.bmcRandom === undefined || session.roleByte === undefined) {
    throw new Error(`session ${session.id} has no RAKP 1 state`);
  }
  return {
    authAlgorithm: session.algorithms.auth,
    remoteConsoleSessionId: session.consoleId,
    managedSystemSessionId: session.id,
    remoteConsoleRandom: session.consoleRandom,
    managedSystemRandom: session.bmcRandom,
    managedSystemGuid: session.guid,
    role: session.roleByte,
    userName: Buffer.from(session.user.name, 'utf8'),
  };
}

export class Handshake {
  private readonly suiteSet: ReadonlySet<number>;

  constructor(private readonly deps: HandshakeDeps) {
    if (deps.suites.includes(0)) throw new RangeError('cipher suite 0 is never offered');
    this.suiteSet = new Set(deps.suites);
  }

  /** The status to refuse an algorithm triple with, or the matching enabled suite id. */
  private matchSuite(auth: number, integrity: number, confidentiality: number): { suite: number } | { status: number } {
    const enabled = [...this.suiteSet].map((id) => ({ id, algs: cipherSuiteAlgorithms(id) }));
    const exact = enabled.find((e) => e.algs?.authAlgorithm === auth && e.algs.integrityAlgorithm === integrity && e.algs.confidentialityAlgorithm === confidentiality);
    if (exact) return { suite: exact.id };
    if (auth === AuthAlgorithm.RAKP_NONE || !enabled.some((e) => e.algs?.authAlgorithm === auth)) return { status: RmcpStatus.INVALID_AUTH_ALGORITHM };
    if (!enabled.some((e) => e.algs?.integrityAlgorithm === integrity)) return { status: RmcpStatus.INVALID_INTEGRITY_ALGORITHM };
    if (!enabled.some((e) => e.algs?.confidentialityAlgorithm === confidentiality)) return { status: RmcpStatus.INVALID_CONFIDENTIALITY_ALGORITHM };
    return { status: RmcpStatus.NO_CIPHER_SUITE_MATCH };
  }

  /**
   * Removes a handshake in setup. One that got as far as RAKP 2 without
   * finishing counts as a failed login of its source for its user: that is
   * what a console with the wrong password does, and what a collector of
   * RAKP 2 HMACs does.
   */
  endUnfinished(session: Session, why: SessionEndReason): void {
    this.deps.table.remove(session.id);
    if (session.state === 'rakp2-sent' && session.user !== undefined) {
      this.deps.events.authFailed(session.user.name, `handshake abandoned after RAKP 2 (${why})`, session.peer);
      this.noteFailure(session.source, session.user.name);
    }
    this.deps.events.sessionEnded(session, why);
  }

  /** Makes room under the per-source and global bounds on handshakes in setup, evicting the flood's own first. */
  private makePendingRoom(peer: string): void {
    for (let i = 0; i < 2; i++) {
      const refusal = this.deps.table.refusalFor(peer);
      let victim: Session | undefined;
      if (refusal === 'source-pending') victim = this.deps.table.oldestPending(this.sourceOf(peer));
      else if (refusal === 'too-many-pending') {
        // Handshakes take milliseconds; when they pile up it is a flood of
        // unfinished ones. Dropping the oldest of the busiest source keeps new
        // consoles able to log in, where refusing them would hand the flood the BMC.
        const busiest = this.deps.table.busiestPendingSource();
        victim = this.deps.table.oldestPending(busiest);
      }
      if (victim === undefined) return;
      this.endUnfinished(victim, 'evicted');
    }
  }

  private sourceOf(peer: string): string {
    // The table computes the same key; asked here only to pick an eviction victim.
    return this.deps.table.sourceKey(peer);
  }

  openSession(payload: Uint8Array, peer: string): HandshakeOutcome {
    let req;
    try {
      req = decodeOpenSessionRequest(payload);
    } catch (err) {
      return drop('malformed', (err as Error).message);
    }
    const refuse = (status: number): HandshakeOutcome =>
      reply(PayloadType.OPEN_SESSION_RESPONSE, encodeOpenSessionResponse({ messageTag: req.messageTag, status, remoteConsoleSessionId: req.remoteConsoleSessionId }));
    if (req.remoteConsoleSessionId === 0) return refuse(RmcpStatus.INVALID_SESSION_ID);
    if (req.requestedPrivilege !== 0 && !isPrivilegeLevel(req.requestedPrivilege)) return refuse(RmcpStatus.INVALID_ROLE);
    const match = this.matchSuite(req.authAlgorithm, req.integrityAlgorithm, req.confidentialityAlgorithm);
    if ('status' in match) return refuse(match.status);
    this.makePendingRoom(peer);
    const created = this.deps.table.create(
      {
        consoleId: req.remoteConsoleSessionId,
        peer,
        algorithms: { suite: match.suite, auth: req.authAlgorithm, integrity: req.integrityAlgorithm, confidentiality: req.confidentialityAlgorithm },
        openPrivilege: req.requestedPrivilege,
        guid: this.deps.guid,
      },
      Privilege.User,
    );
    if (!created.ok) {
      this.deps.events.sessionLimitReached(created.reason === 'table-full' ? 'table' : 'source', peer);
      return refuse(RmcpStatus.INSUFFICIENT_RESOURCES);
    }
    const s = created.session;
    const ceiling = this.deps.suitePrivilegeLimit?.(match.suite) ?? Privilege.Administrator;
    return reply(
      PayloadType.OPEN_SESSION_RESPONSE,
      encodeOpenSessionResponse({
        messageTag: req.messageTag,
        status: 0,
        // 0 asked for "the highest the algorithms allow".
        maximumPrivilege: req.requestedPrivilege === 0 ? ceiling : Math.min(req.requestedPrivilege, ceiling),
        remoteConsoleSessionId: s.consoleId,
        managedSystemSessionId: s.id,
        authAlgorithm: s.algorithms.auth,
        integrityAlgorithm: s.algorithms.integrity,
        confidentialityAlgorithm: s.algorithms.confidentiality,
      }),
    );
  }

  rakp1(payload: Uint8Array, peer: string): HandshakeOutcome {
    let req;
    try {
      req = decodeRakp1(payload);
    } catch (err) {
      return drop('malformed', (err as Error).message);
    }
    const session = this.deps.table.get(req.managedSystemSessionId);
    const refuse = (status: number, consoleId: number): HandshakeOutcome =>
      reply(PayloadType.RAKP2, encodeRakp2({ messageTag: req.messageTag, status, remoteConsoleSessionId: consoleId }));
    if (session === undefined) return refuse(RmcpStatus.INVALID_SESSION_ID, 0);
    if (session.state !== 'opened') {
      const last = session.lastHandshake;
      if (session.state === 'rakp2-sent' && last !== undefined && bytesEqual(last.request, payload)) return reply(last.payloadType, last.reply);
      return drop('protocol', `RAKP 1 for session ${session.id} in state ${session.state}`);
    }
    const name = Buffer.from(req.userName).toString('utf8');
    const fail = (status: number, why: string): HandshakeOutcome => {
      this.deps.table.remove(session.id);
      this.deps.events.sessionEnded(session, 'handshake-failed');
      this.deps.events.authFailed(name, why, peer);
      return refuse(status, session.consoleId);
    };
    // Null user names (anonymous login) are refused always (PROTOCOL.md §3).
    if (req.userName.length === 0) return fail(RAKP_REFUSED, 'null user name');
    const requested = req.role & ROLE_PRIVILEGE_MASK;
    if ((req.role & ROLE_RESERVED_MASK) !== 0 || !isPrivilegeLevel(requested)) return fail(RmcpStatus.INVALID_ROLE, `invalid role byte 0x${req.role.toString(16)}`);
    const user = this.deps.users.lookup(name);
    // Unknown, disabled and "role too high" answer alike (RAKP_REFUSED).
    if (user === undefined || !bytesEqual(Buffer.from(user.name, 'utf8'), req.userName)) return fail(RAKP_REFUSED, 'unknown or disabled user');
    const ceiling = Math.min(user.privilege, this.deps.suitePrivilegeLimit?.(session.algorithms.suite) ?? Privilege.Administrator);
    if (requested > ceiling) return fail(RAKP_REFUSED, `role ${requested} above the user's ${ceiling}`);
    const verdict = this.deps.throttle.check(session.source, user.name);
    if (!verdict.allowed) {
      this.deps.table.remove(session.id);
      this.deps.events.sessionEnded(session, 'handshake-failed');
      this.deps.events.loginThrottled(user.name, peer, verdict.retryAfterMs);
      return refuse(RAKP_TRY_LATER, session.consoleId);
    }
    if (this.deps.table.userCount(user.name) >= this.deps.perUser) {
      this.deps.table.remove(session.id);
      this.deps.events.sessionEnded(session, 'handshake-failed');
      this.deps.events.sessionLimitReached('user', peer, user.name);
      return refuse(RAKP_TRY_LATER, session.consoleId);
    }
    this.deps.table.assignUser(session, user);
    session.roleByte = req.role;
    session.consoleRandom = Uint8Array.from(req.remoteConsoleRandom);
    session.bmcRandom = this.deps.randomBytes(16);
    session.maxPrivilege = requested as PrivilegeLevel;
    session.privilege = Math.min(Privilege.User, requested) as PrivilegeLevel;
    const kuid = passwordKey(user.password.reveal());
    const authCode = rakp2AuthCode(rakpContext(session), kuid);
    kuid.fill(0);
    session.state = 'rakp2-sent';
    const out = encodeRakp2({
      messageTag: req.messageTag,
      status: 0,
      remoteConsoleSessionId: session.consoleId,
      managedSystemRandom: session.bmcRandom,
      managedSystemGuid: session.guid,
      keyExchangeAuthCode: authCode,
    });
    session.lastHandshake = { request: Uint8Array.from(payload), payloadType: PayloadType.RAKP2, reply: out };
    return reply(PayloadType.RAKP2, out);
  }

  rakp3(payload: Uint8Array, peer: string): HandshakeOutcome {
    let req;
    try {
      req = decodeRakp3(payload);
    } catch (err) {
      return drop('malformed', (err as Error).message);
    }
    const session = this.deps.table.get(req.managedSystemSessionId);
    const refuse = (status: number, consoleId: number): HandshakeOutcome =>
      reply(PayloadType.RAKP4, encodeRakp4({ messageTag: req.messageTag, status, remoteConsoleSessionId: consoleId, integrityCheckValue: new Uint8Array(0) }));
    if (session === undefined) return refuse(RmcpStatus.INVALID_SESSION_ID, 0);
    if (session.state === 'active') {
      // Our RAKP 4 was lost and the console repeats RAKP 3 word for word.
      const last = session.lastHandshake;
      if (last !== undefined && last.payloadType === PayloadType.RAKP4 && bytesEqual(last.request, payload)) return reply(last.payloadType, last.reply);
      return drop('protocol', `RAKP 3 for active session ${session.id}`);
    }
    if (session.state !== 'rakp2-sent' || session.user === undefined) return drop('protocol', `RAKP 3 for session ${session.id} in state ${session.state}`);
    const user = session.user;
    const failed = (why: string): void => {
      this.deps.table.remove(session.id);
      this.deps.events.sessionEnded(session, 'handshake-failed');
      this.deps.events.authFailed(user.name, why, peer);
      this.noteFailure(session.source, user.name);
    };
    if (req.status !== 0) {
      // The console refuses our RAKP 2 (e.g. its password differs from ours): no RAKP 4 is owed.
      failed(`console reported RAKP status 0x${req.status.toString(16)}`);
      return drop('protocol', `RAKP 3 carries status 0x${req.status.toString(16)}`);
    }
    const ctx = rakpContext(session);
    const kuid = passwordKey(user.password.reveal());
    try {
      const expected = rakp3AuthCode(ctx, kuid);
      if (!constantTimeEqual(expected, req.keyExchangeAuthCode)) {
        failed('RAKP 3 auth code mismatch');
        return refuse(RmcpStatus.INVALID_INTEGRITY_CHECK_VALUE, session.consoleId);
      }
      // No separate BMC key (KG) is configured: the user key doubles as KG, as Get Channel Auth Caps says.
      const keys = deriveSessionKeys(ctx, kuid);
      const icv = rakp4Icv(ctx, keys.sik);
      session.keys = keys;
      this.deps.table.activate(session);
      this.deps.throttle.recordSuccess(session.source, user.name);
      const out = encodeRakp4({ messageTag: req.messageTag, status: 0, remoteConsoleSessionId: session.consoleId, integrityCheckValue: icv });
      session.lastHandshake = { request: Uint8Array.from(payload), payloadType: PayloadType.RAKP4, reply: out };
      this.deps.events.sessionActivated(session);
      return reply(PayloadType.RAKP4, out);
    } finally {
      kuid.fill(0);
    }
  }

  /** Counts a failed login of `source` as `name` and reports when it starts being throttled. */
  noteFailure(source: string, name: string): void {
    const o = this.deps.throttle.recordFailure(source, name);
    if (o.startedThrottling) this.deps.events.loginThrottleStarted(name, source, o.failures, o.delayMs);
  }
}
