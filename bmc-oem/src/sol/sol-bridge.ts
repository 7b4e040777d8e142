/**
 * The SOL payload server's core, without sockets or timers: at most one SOL
 * payload instance (instance 1) active, bound to one RMCP+ session; console
 * packets go through a SolEndpoint (acks, duplicates, retransmission) to the
 * host serial line, and the host's output comes back the same way. The
 * caller passes the time, calls `tick` at `nextDeadline()`, and provides
 * how to reach a session and the host line.
 */
import { decodeSolPacket, encodeSolPacket, SolEndpoint, SolOperation, type SolPacket, SolStatus } from '@backchannel/proto';
import type { SolSettings } from './sol-settings.js';

export interface SolSessionPort {
  /** Is the RMCP+ session still there? */
  alive(sessionId: number): boolean;
  /** Seals `payload` as a SOL payload in the session and sends it to the console. */
  send(sessionId: number, payload: Uint8Array): void;
}

export interface SolHostPort {
  write(bytes: Uint8Array): void;
  /** The console asked for a break on the host line. */
  sendBreak?(): void;
}

export interface SolActivation {
  sessionId: number;
  /** The user that activated it: the same user may take it over from a stale session of theirs. */
  userName: string;
  since: number;
}

export type ActivateOutcome = 'ok' | 'disabled' | 'already-active' | 'activation-limit';

/** SOL payload data bytes per packet we accept and send (the payload sizes Activate Payload reports are this + 4). */
export const SOL_MAX_DATA = 248;

export interface SolBridgeStats {
  toHost: number;
  toConsole: number;
  breaks: number;
  lostPackets: number;
  resentPackets: number;
  dropped: number;
}

export class SolBridge {
  readonly stats: SolBridgeStats = { toHost: 0, toConsole: 0, breaks: 0, lostPackets: 0, resentPackets: 0, dropped: 0 };
  #active: (SolActivation & { endpoint: SolEndpoint }) | undefined;

  constructor(
    private readonly settings: SolSettings,
    private readonly sessions: SolSessionPort,
    private readonly host: SolHostPort,
  ) {}

  get activation(): SolActivation | undefined {
    return this.#active && { sessionId: this.#active.sessionId, userName: this.#active.userName, since: this.#active.since };
  }

  activate(sessionId: number, userName: string, now: number): ActivateOutcome {
    if (!this.settings.enabled) return 'disabled';
    if (this.#active && this.sessions.alive(this.#active.sessionId)) return 'already-active';
    // A session that went away without deactivating leaves the payload free.
    this.#active = {
      sessionId,
      userName,
      since: now,
      endpoint: new SolEndpoint({ maxData: SOL_MAX_DATA, retryIntervalMs: this.settings.retryIntervalMs, retryCount: this.settings.retryCount }),
    };
    return 'ok';
  }

  /**
   * Ends the activation. When another session asks (an administrator
   * clearing a stale console) the holder is told with the "SOL
   * deactivating" status bit, once; the holder's own request needs no notice.
   */
  deactivate(bySessionId: number | undefined): 'ok' | 'not-active' {
    const a = this.#active;
    if (!a) return 'not-active';
    this.#active = undefined;
    if (bySessionId !== a.sessionId && this.sessions.alive(a.sessionId)) {
      this.sessions.send(a.sessionId, encodeSolPacket({ seq: 0, ackSeq: 0, acceptedCount: 0, flags: SolStatus.SOL_DEACTIVATING, data: new Uint8Array(0) }));
    }
    return 'ok';
  }

  /** A SOL payload from a session; returns the payload to answer with (an ack), if any. */
  fromConsole(sessionId: number, payload: Uint8Array, now: number): Uint8Array | undefined {
    const a = this.#active;
    if (!a || a.sessionId !== sessionId) {
      this.stats.dropped++;
      return undefined;
    }
    let p: SolPacket;
    try {
      p = decodeSolPacket(payload);
    } catch {
      this.stats.dropped++;
      return undefined;
    }
    const r = a.endpoint.receive(p, now);
    if (r.flags & SolOperation.GENERATE_BREAK && p.seq !== 0) {
      this.stats.breaks++;
      this.host.sendBreak?.();
    }
    if (r.data) {
      this.stats.toHost += r.data.length;
      this.host.write(r.data);
    }
    // The first packet answers in the reply datagram; any more go out on their own.
    const [first, ...rest] = r.send;
    for (const q of rest) this.sessions.send(sessionId, encodeSolPacket(q));
    return first && encodeSolPacket(first);
  }

  /** Bytes the host wrote on its serial port. Without an active console they are dropped, as a UART would. */
  fromHost(bytes: Uint8Array, now: number): void {
    const a = this.#active;
    if (!a) return;
    a.endpoint.write(bytes);
    this.#flush(now);
  }

  /** When tick() next has work; undefined when idle. */
  nextDeadline(): number | undefined {
    return this.#active?.endpoint.nextDeadline();
  }

  /** Resends and sends what is due; ends an activation whose session is gone. */
  tick(now: number): void {
    const a = this.#active;
    if (!a) return;
    if (!this.sessions.alive(a.sessionId)) {
      this.#active = undefined;
      return;
    }
    this.#flush(now);
  }

  #flush(now: number): void {
    const a = this.#active!;
    const before = { lost: a.endpoint.lost, resent: a.endpoint.resent };
    for (const p of a.endpoint.poll(now)) {
      this.stats.toConsole += p.data.length;
      this.sessions.send(a.sessionId, encodeSolPacket(p));
    }
    this.stats.lostPackets += a.endpoint.lost - before.lost;
    this.stats.resentPackets += a.endpoint.resent - before.resent;
  }
}
