/**
 * Opens a serial device for the VM protocol: the line is set with
 * `stty -F DEV BAUD raw -echo` (so no line discipline mangles 0xA0/0xA1 or
 * echoes frames back), then the device is opened read-write. For a TTY
 * (a real UART, a USB serial adapter, a pty) the streams are node's tty
 * streams over that fd, which read without blocking a thread-pool thread,
 * so closing the listener never waits for the next byte; anything else
 * (a FIFO in a test rig) gets plain fs streams.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, createReadStream, createWriteStream, openSync } from 'node:fs';
import { isatty, ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import type { Readable, Writable } from 'node:stream';

export interface SerialLine {
  readonly input: Readable;
  readonly output: Writable;
  close(): void;
}

export class SerialSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SerialSetupError';
  }
}

export function configureLine(path: string, baud: number, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('stty', ['-F', path, String(baud), 'raw', '-echo'], { timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (err) reject(new SerialSetupError(`stty -F ${path} ${baud} raw -echo failed: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

export async function openSerialLine(path: string, baud: number): Promise<SerialLine> {
  await configureLine(path, baud);
  // O_NOCTTY: the device must never become our controlling terminal (a hangup would signal the daemon).
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  if (isatty(fd)) {
    const input = new TtyReadStream(fd);
    const output = new TtyWriteStream(fd);
    return {
      input,
      output,
      close: () => {
        input.destroy();
        output.destroy();
      },
    };
  }
  const input = createReadStream('', { fd, autoClose: false });
  const output = createWriteStream('', { fd, autoClose: false });
  return {
    input,
    output,
    close: () => {
      input.destroy();
      output.destroy();
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}
