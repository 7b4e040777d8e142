/**
 * A thin VM-protocol client for tests, built only on the proto codecs: it
 * sends requests with a seq, matches responses by seq and records every
 * control command it receives, in order.
 */
import { connect, type Socket } from 'node:net';
import {
  decodeVmControlPayload,
  decodeVmResponsePayload,
  encodeVmControlFrame,
  encodeVmRequestFrame,
  type VmControl,
  VmFrameDecoder,
  type VmResponse,
} from '@backchannel/proto';

export class VmTestClient {
  readonly controls: VmControl[] = [];
  /** Everything received, in order: 'ctl:<kind>' or 'rsp:<seq>'. */
  readonly log: string[] = [];
  readonly #socket: Socket;
  readonly #decoder = new VmFrameDecoder();
  readonly #pending = new Map<number, (r: VmResponse) => void>();
  readonly #waiters: Array<() => void> = [];
  #seq = 0;
  closed: Promise<void>;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.#decoder.push(new Uint8Array(chunk))) {
        if (e.kind === 'control') {
          const c = decodeVmControlPayload(e.payload);
          this.controls.push(c);
          this.log.push(`ctl:${c.kind}`);
        } else if (e.kind === 'message') {
          const r = decodeVmResponsePayload(e.payload);
          this.log.push(`rsp:${r.seq}`);
          const done = this.#pending.get(r.seq);
          this.#pending.delete(r.seq);
          done?.(r);
        }
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<VmTestClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new VmTestClient(s)));
      s.once('error', reject);
    });
  }

  static connectUnix(path: string): Promise<VmTestClient> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new VmTestClient(s)));
      s.once('error', reject);
    });
  }

  writeRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  sendControl(c: VmControl): void {
    this.#socket.write(encodeVmControlFrame(c));
  }

  request(netfn: number, cmd: number, data: Uint8Array = new Uint8Array(), timeoutMs = 3000): Promise<VmResponse> {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xff;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`no response to seq ${seq} (netfn 0x${netfn.toString(16)} cmd 0x${cmd.toString(16)})`));
      }, timeoutMs);
      this.#pending.set(seq, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.#socket.write(encodeVmRequestFrame({ seq, netfn, lun: 0, cmd, data }));
    });
  }

  /** Waits until `predicate` holds over what has been received. */
  async until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`condition not met; received ${this.log.join(' ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
