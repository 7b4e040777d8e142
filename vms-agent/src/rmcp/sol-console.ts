/**
 * The console side of Serial-over-LAN (IPMI v2.0 §15, §24) on an RMCP+
 * session: Activate Payload (taking a stale activation over when told to),
 * the SOL packet stream through proto's SolEndpoint (sequence numbers,
 * acks, accepted counts, retransmission), the BMC's "SOL deactivating"
 * status and session loss, and Deactivate Payload. Time comes from a Clock,
 * so tests drive it without sleeping.
 */
import {
  decodeActivatePayloadResponse,
  decodeSolPacket,
  encodeActivatePayloadRequest,
  encodeDeactivatePayloadRequest,
  encodeSolPacket,
  NetFn,
  PayloadCommand,
  PayloadCompletion,
  PayloadType,
  SolEndpoint,
  SolOperation,
  type SolPacket,
  SolStatus,
} from '@backchannel/proto';
import type { Clock } from './clock.js';

/** What the console needs of an RMCP+ session (RmcpSession has it). */
export interface SolSessionPort {
  readonly info: { host: string; port: number };
  request(netFn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }>;
  onPayload(handler: ((payloadType: number, payload: Uint8Array) => void) | undefined): void;
  sendPayload(payloadType: number, payload: Uint8Array): void;
  readonly done: Promise<unknown>;
}

export type SolErrorCode = 'ERR_SOL_REFUSED' | 'ERR_SOL_IN_USE' | 'ERR_SOL_ENDED';

export class SolError extends Error {
  constructor(
    readonly code: SolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SolError';
  }
}

export interface SolConsoleOptions {
  clock: Clock;
  /** Console-side wait for an acknowledgement before resending a SOL packet. */
  retryIntervalMs?: number;
  /** Resends of one packet before the session counts as lost. */
  retryCount?: number;
  /** When the payload is active on another (stale) session: deactivate it and activate again. */
  takeOver?: boolean;
}

export interface SolConsoleStats {
  bytesIn: number;
  bytesOut: number;
  resent: number;
  lost: number;
}

export class SolConsole {
  readonly stats: SolConsoleStats = { bytesIn: 0, bytesOut: 0, resent: 0, lost: 0 };
  readonly #endpoint: SolEndpoint;
  readonly #dataListeners: ((bytes: Uint8Array) => void)[] = [];
  readonly #endListeners: ((reason: SolError) => void)[] = [];
  #timer: unknown;
  #ended: SolError | undefined;

  private constructor(
    private readonly session: SolSessionPort,
    private readonly o: SolConsoleOptions,
    maxData: number,
  ) {
    this.#endpoint = new SolEndpoint({ maxData, retryIntervalMs: o.retryIntervalMs ?? 250, retryCount: o.retryCount ?? 7 });
    session.onPayload((type, payload) => {
      if (type === PayloadType.SOL) this.#receive(payload);
    });
    void session.done.then(() => this.#end(new SolError('ERR_SOL_ENDED', `RMCP+ session to ${session.info.host}:${session.info.port} ended`)));
  }

  /** Activates SOL instance 1 on `session`; rejects with SolError when the BMC refuses. */
  static async activate(session: SolSessionPort, o: SolConsoleOptions): Promise<SolConsole> {
    const req = encodeActivatePayloadRequest({ payloadType: PayloadType.SOL, instance: 1, encrypt: true, authenticate: true, holdHandshake: false });
    let r = await session.request(NetFn.APP, PayloadCommand.ACTIVATE_PAYLOAD, req);
    if (r.cc === PayloadCompletion.ALREADY_ACTIVE && o.takeOver) {
      // Our own earlier session (a restart) still holds it: deactivating needs the BMC to let us; then try once more.
      await session.request(NetFn.APP, PayloadCommand.DEACTIVATE_PAYLOAD, encodeDeactivatePayloadRequest(PayloadType.SOL, 1));
      r = await session.request(NetFn.APP, PayloadCommand.ACTIVATE_PAYLOAD, req);
    }
    const where = `${session.info.host}:${session.info.port}`;
    if (r.cc === PayloadCompletion.ALREADY_ACTIVE) throw new SolError('ERR_SOL_IN_USE', `SOL on ${where} is active in another session (cc 0x80); it frees when that session ends`);
    if (r.cc === PayloadCompletion.TYPE_DISABLED) throw new SolError('ERR_SOL_REFUSED', `SOL is disabled on ${where} (cc 0x81): ipmitool sol set enabled true`);
    if (r.cc !== 0) throw new SolError('ERR_SOL_REFUSED', `Activate Payload (SOL) on ${where} failed with cc 0x${r.cc.toString(16).padStart(2, '0')}${r.cc === 0xd4 ? ' (privilege below the BMC\'s SOL privilege level)' : ''}`);
    const a = decodeActivatePayloadResponse(r.data);
    // Like ipmitool: a BMC that wants the payload on another port would need a second session there.
    if (a.port !== session.info.port) throw new SolError('ERR_SOL_REFUSED', `BMC ${where} wants SOL on UDP port ${a.port}; only the session's own port is supported`);
    const maxData = Math.max(1, Math.min(a.inboundPayloadSize, 512) - 4);
    return new SolConsole(session, o, maxData);
  }

  get ended(): SolError | undefined {
    return this.#ended;
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.#dataListeners.push(listener);
  }

  onEnd(listener: (reason: SolError) => void): void {
    if (this.#ended) listener(this.#ended);
    else this.#endListeners.push(listener);
  }

  /** Queues characters for the host's serial port. */
  write(bytes: Uint8Array): void {
    if (this.#ended) return;
    this.#endpoint.write(bytes);
    this.#pump();
  }

  /** Sends a break on the host's serial line (SysRq on Linux). */
  sendBreak(): void {
    this.#endpoint.pulse(SolOperation.GENERATE_BREAK);
    this.#pump();
  }

  /** Characters waiting to be sent (flow control for callers). */
  get queued(): number {
    return this.#endpoint.queued;
  }

  /** Deactivate Payload, then stop. The RMCP+ session stays open (the caller closes it). */
  async deactivate(): Promise<void> {
    if (this.#ended) return;
    this.#end(new SolError('ERR_SOL_ENDED', 'deactivated by us'));
    await this.session.request(NetFn.APP, PayloadCommand.DEACTIVATE_PAYLOAD, encodeDeactivatePayloadRequest(PayloadType.SOL, 1)).catch(() => undefined);
  }

  #receive(payload: Uint8Array): void {
    if (this.#ended) return;
    let p: SolPacket;
    try {
      p = decodeSolPacket(payload);
    } catch {
      return;
    }
    const r = this.#endpoint.receive(p, this.o.clock.now());
    if (r.data) {
      this.stats.bytesIn += r.data.length;
      for (const l of this.#dataListeners) l(r.data);
    }
    for (const q of r.send) this.#send(q);
    if (p.flags & SolStatus.SOL_DEACTIVATING) {
      this.#end(new SolError('ERR_SOL_ENDED', `the BMC ${this.session.info.host}:${this.session.info.port} deactivated SOL (another console took it, or it was disabled)`));
      return;
    }
    this.#schedule();
  }

  #pump(): void {
    for (const q of this.#endpoint.poll(this.o.clock.now())) this.#send(q);
    this.#afterPoll();
  }

  #afterPoll(): void {
    this.stats.resent = this.#endpoint.resent;
    if (this.#endpoint.lost > this.stats.lost) {
      this.stats.lost = this.#endpoint.lost;
      // Every resend of a packet went unacknowledged: the BMC or the session is gone.
      this.#end(new SolError('ERR_SOL_ENDED', `SOL packets to ${this.session.info.host}:${this.session.info.port} went unacknowledged`));
      return;
    }
    this.#schedule();
  }

  #send(p: SolPacket): void {
    this.stats.bytesOut += p.data.length;
    this.session.sendPayload(PayloadType.SOL, encodeSolPacket(p));
  }

  #schedule(): void {
    if (this.#timer !== undefined) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const at = this.#endpoint.nextDeadline();
    if (at === undefined || this.#ended) return;
    this.#timer = this.o.clock.setTimeout(
      () => {
        this.#timer = undefined;
        if (!this.#ended) this.#pump();
      },
      Math.max(0, at - this.o.clock.now()),
    );
  }

  #end(reason: SolError): void {
    if (this.#ended) return;
    this.#ended = reason;
    if (this.#timer !== undefined) this.o.clock.clearTimeout(this.#timer);
    this.session.onPayload(undefined);
    for (const l of this.#endListeners.splice(0)) l(reason);
  }
}
