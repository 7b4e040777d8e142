/**
 * BmcTransport over the OpenIPMI "VM" serial protocol (PROTOCOL.md §4), the
 * hypervisor-agent's client of bmc-oem's system interface over TCP, a unix
 * socket or a serial line.
 *
 * - Requests carry a seq (0–255, not reused while in flight and cycled so a
 *   late answer to a timed-out seq is not mistaken for a new one); responses
 *   are matched by seq, netfn and cmd.
 * - On connect it announces version 1 and capability ATTN.
 * - ATN from the BMC ("set ATN", with or without IRQ) fires onAttention.
 * - If the link drops, requests in flight reject (their responses are lost:
 *   the queue protocol makes repeating them safe) and the transport
 *   reconnects with backoff; requests made meanwhile wait for the link up to
 *   their timeout.
 */
import {
  decodeVmControlPayload,
  decodeVmResponsePayload,
  encodeVmControlFrame,
  encodeVmRequestFrame,
  VM_PROTOCOL_VERSION,
  VmCapability,
  VmFrameDecoder,
} from '@backchannel/proto';
import type { BmcTransport, OpenVmSerialTransport, VmSerialTarget } from './bmc-transport.js';
import { describeTarget, openLink, type VmLink } from './vm-serial-link.js';

export type VmSerialErrorCode = 'ERR_TIMEOUT' | 'ERR_LINK_DOWN' | 'ERR_CLOSED' | 'ERR_CONNECT' | 'ERR_TOO_MANY';

export class VmSerialTransportError extends Error {
  constructor(
    readonly code: VmSerialErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VmSerialTransportError';
  }
}

export interface VmSerialTransportOptions {
  /** Per-request limit, from request() to response, including any wait for the link (default 5000 ms). */
  timeoutMs?: number;
  /** Limit on one connection attempt (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Reconnect after the link drops (default true). */
  reconnect?: boolean;
  /** Backoff between reconnection attempts: starts at min, doubles up to max (defaults 100 / 5000 ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface VmSerialTransportStats {
  connects: number;
  disconnects: number;
  requests: number;
  responses: number;
  timeouts: number;
  attentions: number;
  unmatchedResponses: number;
  badFrames: number;
}

interface Pending {
  netfn: number;
  cmd: number;
  data: Uint8Array;
  seq: number | undefined;
  timer: NodeJS.Timeout;
  resolve: (r: { cc: number; data: Uint8Array }) => void;
  reject: (e: Error) => void;
}

export class VmSerialTransport implements BmcTransport {
  readonly description: string;
  readonly stats: VmSerialTransportStats = { connects: 0, disconnects: 0, requests: 0, responses: 0, timeouts: 0, attentions: 0, unmatchedResponses: 0, badFrames: 0 };
  /** What the BMC announced, once it has. */
  peerVersion: number | undefined;
  readonly #target: VmSerialTarget;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #reconnect: boolean;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  readonly #listeners = new Set<() => void>();
  readonly #inFlight = new Map<number, Pending>();
  readonly #waiting: Pending[] = [];
  #link: VmLink | undefined;
  #decoder = new VmFrameDecoder();
  #nextSeq = 0;
  #closed = false;
  #backoff: number;
  #retryTimer: NodeJS.Timeout | undefined;

  private constructor(target: VmSerialTarget, o: VmSerialTransportOptions) {
    this.#target = target;
    this.description = describeTarget(target);
    this.#timeoutMs = o.timeoutMs ?? 5000;
    this.#connectTimeoutMs = o.connectTimeoutMs ?? 5000;
    this.#reconnect = o.reconnect ?? true;
    this.#minBackoff = o.reconnectMinMs ?? 100;
    this.#maxBackoff = o.reconnectMaxMs ?? 5000;
    this.#backoff = this.#minBackoff;
  }

  /** Connects (or opens the tty); rejects with ERR_CONNECT if the first attempt fails. */
  static async open(target: VmSerialTarget, options: VmSerialTransportOptions = {}): Promise<VmSerialTransport> {
    const t = new VmSerialTransport(target, options);
    try {
      t.#attach(await openLink(target, t.#connectTimeoutMs));
    } catch (err) {
      throw new VmSerialTransportError('ERR_CONNECT', `cannot reach the BMC at ${t.description}: ${(err as Error).message}`);
    }
    return t;
  }

  get connected(): boolean {
    return this.#link !== undefined;
  }

  request(netfn: number, cmd: number, data: Uint8Array): Promise<{ cc: number; data: Uint8Array }> {
    if (this.#closed) return Promise.reject(new VmSerialTransportError('ERR_CLOSED', `${this.description} is closed`));
    this.stats.requests++;
    return new Promise((resolve, reject) => {
      const p: Pending = {
        netfn,
        cmd,
        data,
        seq: undefined,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.stats.timeouts++;
          this.#forget(p);
          reject(new VmSerialTransportError('ERR_TIMEOUT', `no response from ${this.description} to netfn 0x${netfn.toString(16)} cmd 0x${cmd.toString(16)} within ${this.#timeoutMs} ms`));
        }, this.#timeoutMs),
      };
      this.#waiting.push(p);
      this.#pump();
    });
  }

  onAttention(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const err = new VmSerialTransportError('ERR_CLOSED', `${this.description} was closed`);
    for (const p of [...this.#inFlight.values(), ...this.#waiting.splice(0)]) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#inFlight.clear();
    this.#link?.close();
    this.#link = undefined;
  }

  #attach(link: VmLink): void {
    this.#link = link;
    this.#decoder = new VmFrameDecoder();
    this.stats.connects++;
    this.#backoff = this.#minBackoff;
    link.onData((chunk) => this.#receive(chunk));
    link.onClose(() => this.#lost(link));
    link.write(encodeVmControlFrame({ kind: 'version', version: VM_PROTOCOL_VERSION }));
    link.write(encodeVmControlFrame({ kind: 'capabilities', capabilities: VmCapability.Attn }));
    this.#pump();
  }

  #lost(link: VmLink): void {
    if (this.#link !== link) return;
    this.#link = undefined;
    this.stats.disconnects++;
    // Responses to what was in flight are gone; the caller repeats (Put is idempotent, Get repeats its commit).
    const err = new VmSerialTransportError('ERR_LINK_DOWN', `link to ${this.description} dropped before the response`);
    for (const p of this.#inFlight.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#inFlight.clear();
    if (!this.#closed && this.#reconnect) this.#scheduleReconnect();
    else if (!this.#closed) this.#failWaiting();
  }

  #failWaiting(): void {
    const err = new VmSerialTransportError('ERR_LINK_DOWN', `link to ${this.description} is down`);
    for (const p of this.#waiting.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  #scheduleReconnect(): void {
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#maxBackoff, this.#backoff * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      openLink(this.#target, this.#connectTimeoutMs).then(
        (link) => {
          if (this.#closed) link.close();
          else this.#attach(link);
        },
        () => {
          if (!this.#closed) this.#scheduleReconnect();
        },
      );
    }, delay);
  }

  /** Sends waiting requests while the link is up and seqs are free. */
  #pump(): void {
    const link = this.#link;
    if (link === undefined) return;
    while (this.#waiting.length > 0) {
      const seq = this.#allocSeq();
      if (seq === undefined) return;
      const p = this.#waiting.shift() as Pending;
      p.seq = seq;
      this.#inFlight.set(seq, p);
      link.write(encodeVmRequestFrame({ seq, netfn: p.netfn, lun: 0, cmd: p.cmd, data: p.data }));
    }
  }

  #allocSeq(): number | undefined {
    for (let i = 0; i < 256; i++) {
      const seq = (this.#nextSeq + i) & 0xff;
      if (!this.#inFlight.has(seq)) {
        this.#nextSeq = (seq + 1) & 0xff;
        return seq;
      }
    }
    return undefined;
  }

  #forget(p: Pending): void {
    if (p.seq !== undefined && this.#inFlight.get(p.seq) === p) this.#inFlight.delete(p.seq);
    const i = this.#waiting.indexOf(p);
    if (i >= 0) this.#waiting.splice(i, 1);
    this.#pump();
  }

  #receive(chunk: Uint8Array): void {
    for (const e of this.#decoder.push(chunk)) {
      if (e.kind === 'discarded') {
        this.stats.badFrames++;
        continue;
      }
      try {
        if (e.kind === 'control') this.#onControl(e.payload);
        else this.#onResponse(e.payload);
      } catch {
        this.stats.badFrames++;
      }
    }
  }

  #onControl(payload: Uint8Array): void {
    const c = decodeVmControlPayload(payload);
    if (c.kind === 'version') this.peerVersion = c.version;
    else if (c.kind === 'attn' || c.kind === 'attn-irq') {
      this.stats.attentions++;
      for (const l of [...this.#listeners]) {
        try {
          l();
        } catch {
          // A listener's fault must not break the link.
        }
      }
    }
  }

  #onResponse(payload: Uint8Array): void {
    const r = decodeVmResponsePayload(payload);
    const p = this.#inFlight.get(r.seq);
    if (p === undefined || r.netfn !== (p.netfn | 1) || r.cmd !== p.cmd) {
      this.stats.unmatchedResponses++;
      return;
    }
    this.#inFlight.delete(r.seq);
    clearTimeout(p.timer);
    this.stats.responses++;
    p.resolve({ cc: r.cc, data: r.data });
    this.#pump();
  }
}

export const openVmSerialTransport: OpenVmSerialTransport = (target, options) => VmSerialTransport.open(target, options);
