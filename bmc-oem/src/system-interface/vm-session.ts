/**
 * One host connection speaking the OpenIPMI "VM" protocol (PROTOCOL.md §4).
 * Pure protocol logic: bytes come in through `receive`, go out through the
 * injected `write`; requests go to the command table on channel 'system'.
 *
 * ATN is a one-shot doorbell: `ringDoorbell` (on an append to queue 1) sends
 * "set ATN" unless it is already up; the host's Get Message Flags or Get
 * Record on queue 1 sends "clear ATN" before that request's response, in the
 * same write (one wake-up of the host, not two), or earlier if anything else
 * is sent first.
 * A malformed frame is counted and dropped; nothing here throws.
 */
import {
  decodeVmControlPayload,
  decodeVmRequestPayload,
  encodeVmControlFrame,
  encodeVmResponseFrame,
  isWireError,
  OemCommand,
  QueueId,
  readIana,
  VM_PROTOCOL_VERSION,
  VmCapability,
  type VmControl,
  VmFrameDecoder,
  type VmRequest,
} from '@backchannel/proto';
import type { CommandContext } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { HostInterfaceState } from './host-interface-state.js';
import { KcsAppCmd, NETFN_APP } from './kcs-commands.js';

export type SystemDispatch = (ctx: CommandContext, req: { netfn: number; cmd: number; data: Uint8Array }) => Promise<{ cc: number; data?: Uint8Array }>;

export interface VmSessionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Counters kept per listener (summed over its sessions). */
export interface VmStats {
  requests: number;
  responses: number;
  badChecksum: number;
  malformedFrames: number;
  discardedFrames: number;
  unexpectedResponses: number;
  busy: number;
  controlsIn: number;
  unknownControls: number;
  attnSet: number;
  attnCleared: number;
}

export function emptyVmStats(): VmStats {
  return { requests: 0, responses: 0, badChecksum: 0, malformedFrames: 0, discardedFrames: 0, unexpectedResponses: 0, busy: 0, controlsIn: 0, unknownControls: 0, attnSet: 0, attnCleared: 0 };
}

export interface VmSessionOptions {
  dispatch: SystemDispatch;
  state: HostInterfaceState;
  write: (bytes: Uint8Array) => void;
  stats: VmStats;
  logger?: VmSessionLogger;
  /** Reply to the peer's version with ours (serial lines, where either end may start first). */
  answerVersion?: boolean;
  /** Requests being handled at once before new ones get cc 0xC0 (node busy). */
  maxInFlight?: number;
  maxFrameBytes?: number;
}

const CC_NODE_BUSY = 0xc0;
const CC_UNSPECIFIED = 0xff;

export class VmSession {
  readonly #o: VmSessionOptions;
  readonly #decoder: VmFrameDecoder;
  readonly #maxInFlight: number;
  #inFlight = 0;
  #atnUp = false;
  /** A "clear ATN" frame waiting to go out in front of the next thing sent. */
  #clearPending: Uint8Array | undefined;
  #closed = false;
  /** What the peer announced; undefined until it does. */
  peerVersion: number | undefined;
  peerCapabilities: number | undefined;

  constructor(options: VmSessionOptions) {
    this.#o = options;
    this.#decoder = new VmFrameDecoder(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes });
    this.#maxInFlight = options.maxInFlight ?? 16;
  }

  get atnUp(): boolean {
    return this.#atnUp;
  }

  /** Announces our version and, if queue 1 already holds records, rings the doorbell. */
  start(): void {
    this.#send({ kind: 'version', version: VM_PROTOCOL_VERSION });
    if (this.#o.state.engine.depth(QueueId.ToHost) > 0) this.ringDoorbell();
  }

  close(): void {
    this.#closed = true;
  }

  /** A record was appended to queue 1. */
  ringDoorbell(): void {
    if (this.#atnUp || this.#closed) return;
    this.#atnUp = true;
    this.#o.stats.attnSet++;
    // With message interrupts on and a peer that can raise them, ATN comes with an IRQ so an interrupt-driven driver notices at once.
    const irq = this.#o.state.messageInterruptsOn && ((this.peerCapabilities ?? 0) & VmCapability.Irq) !== 0;
    this.#send({ kind: irq ? 'attn-irq' : 'attn' });
  }

  receive(chunk: Uint8Array): void {
    for (const event of this.#decoder.push(chunk)) {
      if (event.kind === 'discarded') this.#o.stats.discardedFrames++;
      else if (event.kind === 'control') this.#onControl(event.payload);
      else this.#onMessage(event.payload);
    }
  }

  #onControl(payload: Uint8Array): void {
    let control: VmControl;
    try {
      control = decodeVmControlPayload(payload);
    } catch {
      this.#o.stats.malformedFrames++;
      return;
    }
    this.#o.stats.controlsIn++;
    switch (control.kind) {
      case 'version':
        this.peerVersion = control.version;
        if (control.version !== VM_PROTOCOL_VERSION) this.#o.logger?.warn({ version: control.version }, 'VM peer speaks another protocol version');
        if (this.#o.answerVersion === true) this.#send({ kind: 'version', version: VM_PROTOCOL_VERSION });
        break;
      case 'capabilities':
        this.peerCapabilities = control.capabilities;
        this.#o.logger?.info({ capabilities: control.capabilities }, 'VM peer capabilities');
        break;
      case 'reset':
        // The host was reset: its driver will set the global enables again, and ATN in its interface is gone.
        this.#o.logger?.info({}, 'VM peer reports a reset');
        this.#o.state.globalEnables = 0;
        this.#atnUp = false;
        if (this.#o.state.engine.depth(QueueId.ToHost) > 0) this.ringDoorbell();
        break;
      default:
        this.#o.stats.unknownControls++;
    }
  }

  #onMessage(payload: Uint8Array): void {
    let req: VmRequest;
    try {
      req = decodeVmRequestPayload(payload);
    } catch (err) {
      if (isWireError(err, 'ERR_BAD_FIELD')) this.#o.stats.badChecksum++;
      else this.#o.stats.malformedFrames++;
      return;
    }
    if (req.netfn % 2 === 1) {
      // A response travelling the wrong way: the BMC sends no requests to the host.
      this.#o.stats.unexpectedResponses++;
      return;
    }
    this.#o.stats.requests++;
    if (this.#clearsDoorbell(req)) this.#clearDoorbell();
    if (this.#inFlight >= this.#maxInFlight) {
      this.#o.stats.busy++;
      this.#respond(req, CC_NODE_BUSY, new Uint8Array());
      return;
    }
    this.#inFlight++;
    const irqBefore = this.#o.state.messageInterruptsOn;
    const ctx: CommandContext = { channel: 'system', privilege: Privilege.Administrator, lun: req.lun };
    this.#o
      .dispatch(ctx, { netfn: req.netfn, cmd: req.cmd, data: req.data })
      .then(
        (r) => {
          if (req.netfn === NETFN_APP && req.cmd === KcsAppCmd.SetBmcGlobalEnables && r.cc === 0) this.#followIrqEnable(irqBefore);
          this.#respond(req, r.cc, r.data ?? new Uint8Array());
        },
        (err: unknown) => {
          this.#o.logger?.warn({ err }, 'system interface dispatch failed');
          this.#respond(req, CC_UNSPECIFIED, new Uint8Array());
        },
      )
      .finally(() => {
        this.#inFlight--;
      });
  }

  /** Get Message Flags, or Get Record on queue 1 with our IANA (PROTOCOL.md §4). */
  #clearsDoorbell(req: VmRequest): boolean {
    if (req.netfn === NETFN_APP && req.cmd === KcsAppCmd.GetMessageFlags) return true;
    return req.netfn === 0x2e && req.cmd === OemCommand.GetRecord && req.data.length >= 4 && readIana(req.data, 0) === this.#o.state.engine.iana && req.data[3] === QueueId.ToHost;
  }

  #clearDoorbell(): void {
    if (!this.#atnUp) return;
    this.#atnUp = false;
    this.#o.stats.attnCleared++;
    this.#clearPending = encodeVmControlFrame({ kind: 'no-attn' });
  }

  /** Writes `frame`, behind a pending "clear ATN" if there is one. */
  #write(frame: Uint8Array): void {
    const clear = this.#clearPending;
    this.#clearPending = undefined;
    if (!clear) {
      this.#o.write(frame);
      return;
    }
    const both = new Uint8Array(clear.length + frame.length);
    both.set(clear, 0);
    both.set(frame, clear.length);
    this.#o.write(both);
  }

  /** Mirrors the receive-message-queue interrupt enable into the VM, as OpenIPMI's lanserv does. */
  #followIrqEnable(before: boolean): void {
    const now = this.#o.state.messageInterruptsOn;
    if (now === before || ((this.peerCapabilities ?? 0) & VmCapability.Irq) === 0) return;
    this.#send({ kind: now ? 'enable-irq' : 'disable-irq' });
  }

  #respond(req: VmRequest, cc: number, data: Uint8Array): void {
    if (this.#closed) return;
    let frame: Uint8Array;
    try {
      frame = encodeVmResponseFrame({ seq: req.seq, netfn: req.netfn | 1, lun: req.lun, cmd: req.cmd, cc, data });
    } catch (err) {
      this.#o.logger?.warn({ err }, 'system interface response could not be encoded');
      frame = encodeVmResponseFrame({ seq: req.seq, netfn: req.netfn | 1, lun: req.lun, cmd: req.cmd, cc: CC_UNSPECIFIED, data: new Uint8Array() });
    }
    this.#o.stats.responses++;
    this.#write(frame);
  }

  #send(control: VmControl): void {
    if (this.#closed) return;
    this.#write(encodeVmControlFrame(control));
  }
}
