/**
 * The RMCP+ session table: random non-zero managed-system session ids, a
 * bound on sessions (and a smaller one on sessions still in setup, so an
 * unauthenticated flood cannot crowd out established sessions), bounds per
 * source address and per user name (so no one account or host can take
 * the table from the others), setup and idle timeouts. The clock and the
 * random source are parameters.
 */
import type { RandomBytes, SessionCipher } from '@backchannel/proto';
import type { SessionLimits } from '../config/config-types.js';
import type { SessionControl } from '../commands/command-types.js';
import type { PrivilegeLevel } from '../commands/privilege.js';
import type { LanUser } from './user-directory.js';
import { sourceAddress } from './peer-address.js';
import { SequenceWindow } from './sequence-window.js';

export type SessionState =
  /** Open Session answered; waiting for RAKP 1. */
  | 'opened'
  /** RAKP 2 sent; waiting for RAKP 3. */
  | 'rakp2-sent'
  /** RAKP 4 sent: the session carries IPMI messages. */
  | 'active';

export interface SessionAlgorithms {
  suite: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

export interface SessionKeys {
  sik: Uint8Array;
  k1: Uint8Array;
  k2: Uint8Array;
}

export interface Session {
  /** The managed system (BMC) session id: what the console puts in its packets. */
  readonly id: number;
  /** The remote console's session id: what we put in ours. */
  readonly consoleId: number;
  /** Where the session was opened from ("address:port"), for logs. */
  readonly peer: string;
  /** The peer's source key (address, or /64 for IPv6) the per-source bounds count by. */
  readonly source: string;
  /** A small number naming the session in Get Session Info (1..255, reused). */
  readonly handle: number;
  readonly algorithms: SessionAlgorithms;
  /** Requested maximum privilege from Open Session (0 = highest the algorithms allow). */
  readonly openPrivilege: number;
  /** The managed system GUID this session's RAKP messages carry. */
  readonly guid: Uint8Array;
  state: SessionState;
  createdAt: number;
  lastActivity: number;
  // Set by RAKP 1:
  user?: LanUser;
  /** The RAKP 1 role byte exactly as sent (privilege | name-only lookup bit): it is hashed into RAKP 2/3 and the SIK. */
  roleByte?: number;
  consoleRandom?: Uint8Array;
  bmcRandom?: Uint8Array;
  keys?: SessionKeys;
  /** The keys prepared for per-packet use; made on the first packet of the active session. */
  cipher?: SessionCipher;
  /** What command handlers get to act on this session; made on first use. */
  control?: SessionControl;
  /** The ceiling for Set Session Privilege Level: min(requested role, user's privilege). */
  maxPrivilege: PrivilegeLevel;
  /** Working privilege of requests in this session. */
  privilege: PrivilegeLevel;
  readonly inbound: SequenceWindow;
  /** Last outbound session sequence number used. */
  outboundSeq: number;
  /** Set by Close Session: removed after the response is sent. */
  closing: boolean;
  /**
   * The last handshake request (RAKP 1 or RAKP 3) and our reply to it, so a
   * retransmitted request gets the same reply instead of breaking the
   * handshake when only our answer was lost.
   */
  lastHandshake?: { request: Uint8Array; payloadType: number; reply: Uint8Array };
}

export type CreateRefusal = 'table-full' | 'source-full' | 'too-many-pending' | 'source-pending';
export type CreateResult = { ok: true; session: Session } | { ok: false; reason: CreateRefusal };

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

export interface ExpiredSession {
  session: Session;
  why: 'setup-timeout' | 'idle-timeout';
}

export class SessionTable {
  private readonly sessions = new Map<number, Session>();
  private pending = 0;
  private readonly bySource = new Map<string, number>();
  private readonly pendingBySource = new Map<string, number>();
  private readonly byUser = new Map<string, number>();
  private readonly handles = new Set<number>();
  private nextHandle = 1;

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number,
    private readonly randomBytes: RandomBytes,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  get pendingCount(): number {
    return this.pending;
  }

  get activeCount(): number {
    return this.sessions.size - this.pending;
  }

  private newId(): number {
    // Bounded: the table is far smaller than 2^32, so a free id turns up at
    // once; the bound only guards against a broken random source.
    for (let i = 0; i < 64; i++) {
      const b = this.randomBytes(4);
      const id = ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
      if (id !== 0 && !this.sessions.has(id)) return id;
    }
    throw new Error('random source returned no usable session id in 64 draws');
  }

  private newHandle(): number {
    // Handles are one byte (Get Session Info); 0 and 0xFF are not handles.
    for (let i = 0; i < 0xfe; i++) {
      const h = this.nextHandle;
      this.nextHandle = h >= 0xfe ? 1 : h + 1;
      if (!this.handles.has(h)) return h;
    }
    return 0;
  }

  /** The key the per-source bounds count `peer` by. */
  sourceKey(peer: string): string {
    return sourceAddress(peer);
  }

  /** Sessions (any state) held by a source key. */
  sourceCount(source: string): number {
    return this.bySource.get(source) ?? 0;
  }

  /** Handshakes in setup from a source key. */
  sourcePendingCount(source: string): number {
    return this.pendingBySource.get(source) ?? 0;
  }

  /** Sessions past RAKP 1 (in setup or active) held by a user name. */
  userCount(name: string): number {
    return this.byUser.get(name) ?? 0;
  }

  /** Which bound a new session from `peer` would break, if any (the caller may evict and ask again). */
  refusalFor(peer: string): CreateRefusal | undefined {
    const source = sourceAddress(peer);
    if (this.sessions.size >= this.limits.max) return 'table-full';
    if (this.sourceCount(source) >= this.limits.perSource) return 'source-full';
    if (this.sourcePendingCount(source) >= this.limits.perSourcePending) return 'source-pending';
    if (this.pending >= this.limits.maxPending) return 'too-many-pending';
    return undefined;
  }

  create(init: { consoleId: number; peer: string; algorithms: SessionAlgorithms; openPrivilege: number; guid: Uint8Array }, initialPrivilege: PrivilegeLevel): CreateResult {
    // The caller sweeps expired sessions first (it counts them: an abandoned
    // handshake is a failed RAKP attempt), so this only checks the bounds.
    const refusal = this.refusalFor(init.peer);
    if (refusal !== undefined) return { ok: false, reason: refusal };
    const t = this.now();
    const source = sourceAddress(init.peer);
    const handle = this.newHandle();
    const session: Session = {
      id: this.newId(),
      consoleId: init.consoleId,
      peer: init.peer,
      source,
      handle,
      algorithms: init.algorithms,
      openPrivilege: init.openPrivilege,
      guid: init.guid,
      state: 'opened',
      createdAt: t,
      lastActivity: t,
      maxPrivilege: initialPrivilege,
      privilege: initialPrivilege,
      inbound: new SequenceWindow(),
      outboundSeq: 0,
      closing: false,
    };
    this.sessions.set(session.id, session);
    this.pending++;
    bump(this.bySource, source, 1);
    bump(this.pendingBySource, source, 1);
    if (handle !== 0) this.handles.add(handle);
    return { ok: true, session };
  }

  /** RAKP 1 named the session's user: from now on it counts against that name. */
  assignUser(session: Session, user: LanUser): void {
    if (session.user !== undefined) bump(this.byUser, session.user.name, -1);
    session.user = user;
    bump(this.byUser, user.name, 1);
  }

  get(id: number): Session | undefined {
    return this.sessions.get(id);
  }

  /** Moves a session from setup to active (RAKP 4 sent). */
  activate(session: Session): void {
    if (session.state === 'active') return;
    session.state = 'active';
    session.lastActivity = this.now();
    this.pending--;
    bump(this.pendingBySource, session.source, -1);
  }

  touch(session: Session): void {
    session.lastActivity = this.now();
  }

  remove(id: number): Session | undefined {
    const s = this.sessions.get(id);
    if (s === undefined) return undefined;
    this.sessions.delete(id);
    if (s.state !== 'active') {
      this.pending--;
      bump(this.pendingBySource, s.source, -1);
    }
    bump(this.bySource, s.source, -1);
    if (s.user !== undefined) bump(this.byUser, s.user.name, -1);
    this.handles.delete(s.handle);
    // Drop key material now rather than when the GC gets to it.
    s.keys?.sik.fill(0);
    s.keys?.k1.fill(0);
    s.keys?.k2.fill(0);
    s.cipher?.dispose();
    s.cipher = undefined;
    return s;
  }

  /** Removes sessions past their setup or idle timeout and returns them (the caller counts and logs). */
  expire(): ExpiredSession[] {
    const t = this.now();
    const out: ExpiredSession[] = [];
    for (const s of this.sessions.values()) {
      if (s.state !== 'active' && t - s.createdAt >= this.limits.setupTimeoutMs) out.push({ session: s, why: 'setup-timeout' });
      else if (s.state === 'active' && t - s.lastActivity >= this.limits.idleTimeoutMs) out.push({ session: s, why: 'idle-timeout' });
    }
    for (const e of out) this.remove(e.session.id);
    return out;
  }

  /** The session in setup that was created first, from `source` if given (the one to evict when handshakes pile up). */
  oldestPending(source?: string): Session | undefined {
    let oldest: Session | undefined;
    for (const s of this.sessions.values()) {
      if (s.state === 'active' || (source !== undefined && s.source !== source)) continue;
      if (oldest === undefined || s.createdAt < oldest.createdAt) oldest = s;
    }
    return oldest;
  }

  /** The source with the most handshakes in setup (a flood evicts its own first). */
  busiestPendingSource(): string | undefined {
    let best: string | undefined;
    let most = 0;
    for (const [source, n] of this.pendingBySource) {
      if (n > most) {
        most = n;
        best = source;
      }
    }
    return best;
  }

  /** Active sessions, oldest first (Get Session Info's index order). */
  activeSessions(): Session[] {
    return [...this.sessions.values()].filter((s) => s.state === 'active').sort((a, b) => a.createdAt - b.createdAt || a.handle - b.handle);
  }

  byHandle(handle: number): Session | undefined {
    for (const s of this.sessions.values()) if (s.handle === handle) return s;
    return undefined;
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  clear(): void {
    for (const id of [...this.sessions.keys()]) this.remove(id);
  }
}
