/**
 * The byte pipe under the VM serial transport: a TCP or unix-socket
 * connection, or a serial device set up with `stty -F DEV BAUD raw -echo`
 * and read through node's tty streams (non-blocking, so closing never waits
 * for the next byte). Knows nothing of the protocol.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, createReadStream, createWriteStream, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { isatty, ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import type { VmSerialTarget } from './bmc-transport.js';

export interface VmLink {
  write(bytes: Uint8Array): void;
  /** Called with each chunk received. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Called once when the link is gone (peer closed, error, or close()). */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

export function describeTarget(t: VmSerialTarget): string {
  if (t.kind === 'tcp') return `vm+tcp://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  if (t.kind === 'unix') return `vm+unix://${t.path}`;
  return `vm+serial://${t.path}?baud=${t.baud}`;
}

export function openLink(target: VmSerialTarget, timeoutMs: number): Promise<VmLink> {
  return target.kind === 'serial' ? openSerial(target.path, target.baud, timeoutMs) : openSocket(target, timeoutMs);
}

function openSocket(target: VmSerialTarget, timeoutMs: number): Promise<VmLink> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.kind === 'tcp' ? connect({ host: target.host, port: target.port }) : connect({ path: target.kind === 'unix' ? target.path : '' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      if (target.kind === 'tcp') {
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 15_000);
      }
      resolve(streamLink(socket, socket, () => socket.destroy()));
    });
  });
}

async function openSerial(path: string, baud: number, timeoutMs: number): Promise<VmLink> {
  await new Promise<void>((resolve, reject) => {
    execFile('stty', ['-F', path, String(baud), 'raw', '-echo'], { timeout: timeoutMs }, (err, _out, stderr) => {
      if (err) reject(new Error(`stty -F ${path} ${baud} raw -echo failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  if (isatty(fd)) {
    const input = new TtyReadStream(fd);
    const output = new TtyWriteStream(fd);
    return streamLink(input, output, () => {
      input.destroy();
      output.destroy();
    });
  }
  const input = createReadStream('', { fd, autoClose: false });
  const output = createWriteStream('', { fd, autoClose: false });
  return streamLink(input, output, () => {
    input.destroy();
    output.destroy();
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  });
}

function streamLink(input: Readable, output: Writable, destroy: () => void): VmLink {
  const closeListeners: Array<(reason: string) => void> = [];
  let closed = false;
  const end = (reason: string) => {
    if (closed) return;
    closed = true;
    destroy();
    for (const l of closeListeners) l(reason);
  };
  input.on('error', (err) => end(`read error: ${err.message}`));
  output.on('error', (err) => end(`write error: ${err.message}`));
  input.on('end', () => end('closed by the BMC'));
  input.on('close', () => end('closed'));
  return {
    write: (bytes) => {
      if (!closed) output.write(bytes);
    },
    onData: (listener) => input.on('data', (chunk: Buffer) => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))),
    onClose: (listener) => closeListeners.push(listener),
    close: () => end('closed by us'),
  };
}
