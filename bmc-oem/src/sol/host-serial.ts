/**
 * The IO edge to the host's serial port: connects (or opens the tty),
 * reconnects after a pause when the other end goes away, and never throws
 * into the daemon. Bytes written while it is down are dropped, as a UART
 * with nothing attached would.
 */
import { connect, type Socket } from 'node:net';
import { configureLine, openSerialLine, type SerialLine } from '../system-interface/serial-device.js';
import type { SolDeviceSpec } from './sol-device.js';

export interface HostSerialOptions {
  spec: SolDeviceSpec;
  baud: number;
  onData: (bytes: Uint8Array) => void;
  onState?: (up: boolean, detail: string) => void;
  reconnectMs?: number;
}

export class HostSerial {
  #socket: Socket | undefined;
  #line: SerialLine | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #baud: number;

  constructor(private readonly o: HostSerialOptions) {
    this.#baud = o.baud;
  }

  get up(): boolean {
    return this.#socket !== undefined || this.#line !== undefined;
  }

  start(): void {
    void this.#open();
  }

  write(bytes: Uint8Array): void {
    if (this.#socket) this.#socket.write(bytes);
    else this.#line?.output.write(bytes);
  }

  /** A SOL parameter changed the bit rate: a real line follows it; a socket has none. */
  setBaud(baud: number): void {
    this.#baud = baud;
    if (this.o.spec.kind === 'serial' && this.#line) configureLine(this.o.spec.path, baud).catch((err: unknown) => this.o.onState?.(true, `could not set ${baud} baud: ${(err as Error).message}`));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket?.destroy();
    this.#line?.close();
    this.#socket = undefined;
    this.#line = undefined;
  }

  #down(detail: string): void {
    if (this.#closed) return;
    const was = this.up;
    this.#socket = undefined;
    this.#line = undefined;
    if (was) this.o.onState?.(false, detail);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#open(), this.o.reconnectMs ?? 1000);
    this.#timer.unref();
  }

  async #open(): Promise<void> {
    if (this.#closed) return;
    const spec = this.o.spec;
    if (spec.kind === 'serial') {
      try {
        const line = await openSerialLine(spec.path, this.#baud);
        if (this.#closed) return line.close();
        this.#line = line;
        line.input.on('data', (b: Buffer) => this.o.onData(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
        line.input.on('error', (err) => this.#down(err.message));
        line.output.on('error', (err) => this.#down(err.message));
        line.input.on('close', () => this.#down('closed'));
        this.o.onState?.(true, spec.text);
      } catch (err) {
        this.#down((err as Error).message);
      }
      return;
    }
    const socket = spec.kind === 'tcp' ? connect({ host: spec.host, port: spec.port }) : connect({ path: spec.path });
    socket.on('error', (err) => this.#down(err.message));
    socket.on('close', () => {
      if (this.#socket === socket) this.#down('closed by the host side');
      else if (!this.up) this.#down('connect failed');
    });
    socket.on('data', (b: Buffer) => this.o.onData(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    socket.once('connect', () => {
      if (this.#closed) return void socket.destroy();
      if (spec.kind === 'tcp') socket.setNoDelay(true);
      this.#socket = socket;
      this.o.onState?.(true, spec.text);
    });
  }
}
