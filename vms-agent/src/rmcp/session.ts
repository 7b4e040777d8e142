/**
 * An established RMCP+ session: the driver around SessionState. It owns the
 * socket handler and the timers (retransmission, keep-alive), queues
 * requests beyond the in-flight limit, and turns the state machine's
 * answers into settled promises.
 */
import { AppCommand, NetFn, encodeCloseSessionRequest } from '@backchannel/proto';
import type { Clock } from './clock.js';
import { RmcpError } from './errors.js';
import type { RttSnapshot } from './rtt-estimator.js';
import type { SessionCounters, SessionState } from './session-state.js';
import type { DatagramTransport } from './udp-transport.js';

export interface IpmiResponse {
  cc: number;
  data: Uint8Array;
}

export interface RmcpSessionInfo {
  host: string;
  port: number;
  cipherSuite: number;
  privilege: number;
  bmcSessionId: number;
  consoleSessionId: number;
}

interface Waiter {
  netFn: number;
  cmd: number;
  data: Uint8Array;
  lun: number;
  resolve: (r: IpmiResponse) => void;
  reject: (e: Error) => void;
}

export interface RmcpSessionOptions {
  /** Idle time after which a Get Device ID keeps the BMC from timing the session out; 0 = never. */
  keepAliveMs: number;
  /** How long close() waits for the Close Session answer. */
  closeTimeoutMs: number;
  /** The session state's give-up time (for messages). */
  giveUpMs: number;
}

/** Shared by every request without data (never written to). */
const NO_DATA = new Uint8Array(0);

export class RmcpSession {
  private readonly queue: Waiter[] = [];
  private readonly inFlight = new Map<number, Waiter>();
  /**
   * One timer for every retransmission deadline, armed lazily: it is set
   * for the earliest deadline when none is armed, and not moved when
   * requests are answered (it then fires early and re-arms for the next
   * deadline). It is moved only when a new deadline comes before it: the
   * RTO adapts, so a request sent after a backed-off one can be due first.
   * This keeps timer calls off the per-request path.
   */
  private retransmitTimer: unknown;
  private retransmitTimerAt = 0;
  private keepAliveTimer: unknown;
  private lastActivity: number;
  private state_: 'open' | 'closing' | 'closed' = 'open';
  private endReason: RmcpError | undefined;
  private readonly ended: Promise<RmcpError | undefined>;
  private payloadHandler: ((payloadType: number, payload: Uint8Array) => void) | undefined;
  private markEnded!: (reason: RmcpError | undefined) => void;

  constructor(
    readonly info: RmcpSessionInfo,
    private readonly transport: DatagramTransport,
    private readonly sm: SessionState,
    private readonly clock: Clock,
    private readonly options: RmcpSessionOptions,
  ) {
    this.lastActivity = clock.now();
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    transport.onDatagram((d) => this.onDatagram(d));
    this.scheduleKeepAlive();
  }

  /** 'open' until close() starts or the BMC stops answering keep-alives. */
  get state(): 'open' | 'closing' | 'closed' {
    return this.state_;
  }

  /** Resolves when the session has ended: undefined after close(), the error when it broke. */
  get done(): Promise<RmcpError | undefined> {
    return this.ended;
  }

  get counters(): Readonly<SessionCounters> {
    return this.sm.counters;
  }

  /** SRTT, RTTVAR and RTO of this session (RFC 6298; rtt-estimator.ts). */
  get roundTrip(): RttSnapshot {
    return this.sm.roundTrip;
  }

  /**
   * Sends one IPMI request and resolves with its completion code and data.
   * Rejects with ERR_RMCP_TIMEOUT when no answer came within the give-up
   * time (retransmitting on the adaptive RTO meanwhile), and ERR_RMCP_SESSION_CLOSED once the session is closed.
   */
  request(netFn: number, cmd: number, data: Uint8Array = NO_DATA, lun = 0): Promise<IpmiResponse> {
    if (this.state_ !== 'open') return Promise.reject(this.closedError());
    return this.enqueue(netFn, cmd, data, lun);
  }

  /** Receives the SOL payloads the BMC sends in this session (sol-console.ts); replaces any earlier handler. */
  onPayload(handler: ((payloadType: number, payload: Uint8Array) => void) | undefined): void {
    this.payloadHandler = handler;
  }

  /** Sends a SOL payload in this session (no answer is awaited here). */
  sendPayload(payloadType: number, payload: Uint8Array): void {
    if (this.state_ !== 'open') return;
    this.lastActivity = this.clock.now();
    this.transport.send(this.sm.sealPayload(payloadType, payload));
  }

  /** Sends Close Session (waiting briefly for its answer), then releases the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.state_ !== 'open') {
      await this.ended;
      return;
    }
    this.state_ = 'closing';
    let handle: unknown;
    const timer = new Promise<void>((resolve) => (handle = this.clock.setTimeout(resolve, this.options.closeTimeoutMs)));
    const answer = this.enqueue(NetFn.APP, AppCommand.CLOSE_SESSION, encodeCloseSessionRequest({ sessionId: this.info.bmcSessionId }), 0).then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([answer, timer]);
    this.clock.clearTimeout(handle);
    await this.teardown(undefined);
  }

  private enqueue(netFn: number, cmd: number, data: Uint8Array, lun: number): Promise<IpmiResponse> {
    return new Promise<IpmiResponse>((resolve, reject) => {
      const w: Waiter = { netFn, cmd, data, lun, resolve, reject };
      if (this.queue.length === 0 && this.sm.canSubmit()) {
        this.submit(w);
        this.scheduleRetransmit();
        return;
      }
      this.queue.push(w);
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.sm.canSubmit()) this.submit(this.queue.shift()!);
    this.scheduleRetransmit();
  }

  private submit(w: Waiter): void {
    const now = this.clock.now();
    let sent;
    try {
      sent = this.sm.submit(w.netFn, w.cmd, w.data, w.lun, now);
    } catch (err) {
      w.reject(err as Error);
      return;
    }
    this.inFlight.set(sent.rqSeq, w);
    this.lastActivity = now;
    this.transport.send(sent.datagram);
  }

  private onDatagram(datagram: Uint8Array): void {
    if (this.state_ === 'closed') return;
    const now = this.clock.now();
    const r = this.sm.receive(datagram, now);
    if (r.kind === 'payload') {
      this.lastActivity = now;
      this.payloadHandler?.(r.payloadType, r.payload);
      return;
    }
    if (r.kind !== 'response') return;
    const w = this.inFlight.get(r.rqSeq);
    this.inFlight.delete(r.rqSeq);
    this.lastActivity = now;
    w?.resolve({ cc: r.cc, data: r.data });
    if (this.queue.length > 0) this.pump();
  }

  private scheduleRetransmit(): void {
    if (this.state_ === 'closed') return;
    const next = this.sm.nextDeadline();
    if (next === undefined) return;
    if (this.retransmitTimer !== undefined) {
      if (this.retransmitTimerAt <= next) return;
      this.clock.clearTimeout(this.retransmitTimer);
    }
    this.retransmitTimerAt = next;
    this.retransmitTimer = this.clock.setTimeout(() => this.onRetransmitTimer(), Math.max(0, next - this.clock.now()));
  }

  private onRetransmitTimer(): void {
    this.retransmitTimer = undefined;
    if (this.state_ === 'closed') return;
    const work = this.sm.due(this.clock.now());
    for (const d of work.retransmit) this.transport.send(d);
    for (const rqSeq of work.expired) {
      const w = this.inFlight.get(rqSeq);
      this.inFlight.delete(rqSeq);
      w?.reject(new RmcpError('ERR_RMCP_TIMEOUT', `no answer to netfn 0x${hex(w.netFn)} cmd 0x${hex(w.cmd)} from ${this.info.host}:${this.info.port} in ${this.options.giveUpMs} ms`));
    }
    if (work.dead) {
      void this.teardown(new RmcpError('ERR_RMCP_SESSION_CLOSED', `BMC ${this.info.host}:${this.info.port} stopped answering: nothing heard for ${this.options.giveUpMs} ms`));
      return;
    }
    this.pump();
  }

  private scheduleKeepAlive(): void {
    if (this.options.keepAliveMs <= 0 || this.state_ !== 'open') return;
    const due = this.lastActivity + this.options.keepAliveMs;
    this.keepAliveTimer = this.clock.setTimeout(() => this.onKeepAliveTimer(), Math.max(0, due - this.clock.now()));
  }

  private onKeepAliveTimer(): void {
    this.keepAliveTimer = undefined;
    if (this.state_ !== 'open') return;
    const idle = this.clock.now() - this.lastActivity >= this.options.keepAliveMs && this.inFlight.size === 0 && this.queue.length === 0;
    if (!idle) {
      this.scheduleKeepAlive();
      return;
    }
    this.enqueue(NetFn.APP, AppCommand.GET_DEVICE_ID, new Uint8Array(0), 0).then(
      () => this.scheduleKeepAlive(),
      (err: unknown) => {
        // Every retransmission of the keep-alive went unanswered: the BMC has lost the session (or is gone).
        if (err instanceof RmcpError && err.code === 'ERR_RMCP_TIMEOUT' && this.state_ === 'open') {
          void this.teardown(new RmcpError('ERR_RMCP_SESSION_CLOSED', `BMC ${this.info.host}:${this.info.port} stopped answering keep-alives`, { cause: err }));
        }
      },
    );
  }

  private async teardown(reason: RmcpError | undefined): Promise<void> {
    if (this.state_ === 'closed') return;
    this.state_ = 'closed';
    this.endReason = reason;
    if (this.retransmitTimer !== undefined) this.clock.clearTimeout(this.retransmitTimer);
    if (this.keepAliveTimer !== undefined) this.clock.clearTimeout(this.keepAliveTimer);
    this.retransmitTimer = this.keepAliveTimer = undefined;
    this.sm.cancelAll();
    const err = this.closedError();
    for (const w of [...this.inFlight.values(), ...this.queue.splice(0)]) w.reject(err);
    this.inFlight.clear();
    await this.transport.close();
    this.markEnded(reason);
  }

  private closedError(): RmcpError {
    return this.endReason ?? new RmcpError('ERR_RMCP_SESSION_CLOSED', `session with ${this.info.host}:${this.info.port} is closed`);
  }
}

function hex(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0');
}
