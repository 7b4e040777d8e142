/**
 * A shell-like host on the far side of a serial line, for SOL tests: listens
 * on 127.0.0.1 (where a BMC's SOL device connects, as QEMU's
 * `-serial tcp::PORT,server=on` would), greets with a prompt and echoes every
 * line back as `echo: LINE` followed by the prompt again, so a test sees both
 * its keystrokes arrive and output come back.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface EchoHost {
  port: number;
  /** Everything the host received, in order. */
  received(): string;
  connections(): number;
  close(): Promise<void>;
}

export async function startEchoHost(prompt = 'host$ '): Promise<EchoHost> {
  let got = '';
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write(prompt);
    let line = '';
    s.on('data', (b) => {
      const text = b.toString('latin1');
      got += text;
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') {
          if (line.length > 0) s.write(`\r\necho: ${line}\r\n${prompt}`);
          line = '';
        } else line += ch;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('echo host has no TCP address');
  return {
    port: addr.port,
    received: () => got,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
