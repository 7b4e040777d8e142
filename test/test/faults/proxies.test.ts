// The fault-injection proxies themselves: they must forward faithfully when
// told to, and inject the faults they claim with the configured rates.
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpCutProxy } from '../../src/faults/tcp-cut-proxy.js';
import { UdpFaultProxy } from '../../src/faults/udp-proxy.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function udpEcho(): Promise<number> {
  const echo = createSocket('udp4');
  echo.on('message', (msg, info) => echo.send(msg, info.port, info.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => echo.close(() => r())));
  return echo.address().port;
}

async function exchange(proxyPort: number, count: number, waitMs: number): Promise<number[]> {
  const client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const got: number[] = [];
  client.on('message', (msg) => got.push(msg.readUInt32BE(0)));
  for (let i = 0; i < count; i++) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(i);
    client.send(b, proxyPort, '127.0.0.1');
    // Pace the burst so the kernel's socket buffers never overflow: only the proxy may lose datagrams.
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, waitMs));
  client.close();
  return got;
}

describe('UdpFaultProxy', () => {
  it('forwards everything, in order, with no faults', async () => {
    const proxy = await UdpFaultProxy.start({ targetPort: await udpEcho() });
    cleanups.push(() => proxy.close());
    const got = await exchange(proxy.port, 200, 300);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('drops and duplicates at about the configured rates', async () => {
    const proxy = await UdpFaultProxy.start({
      targetPort: await udpEcho(),
      faults: { drop: 0.2, duplicate: 0.05, reorder: 0, delay: 0, delayMs: [0, 0] },
      seed: 7,
    });
    cleanups.push(() => proxy.close());
    const got = await exchange(proxy.port, 1000, 500);
    // Each datagram crosses the proxy twice (there and back).
    expect(proxy.stats.dropped).toBeGreaterThan(250);
    expect(proxy.stats.dropped).toBeLessThan(500);
    expect(proxy.stats.duplicated).toBeGreaterThan(30);
    expect(new Set(got).size).toBeLessThan(1000);
    expect(got.length).toBeGreaterThan(new Set(got).size); // duplicates arrived
  });

  it('reorders and delays but loses nothing when drop is 0', async () => {
    const proxy = await UdpFaultProxy.start({
      targetPort: await udpEcho(),
      faults: { drop: 0, duplicate: 0, reorder: 0.2, delay: 0.2, delayMs: [1, 20] },
      seed: 3,
    });
    cleanups.push(() => proxy.close());
    const got = await exchange(proxy.port, 300, 800);
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(got).not.toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(proxy.stats.reordered).toBeGreaterThan(0);
  });

  it('drops what a filter selects (e.g. the first response)', async () => {
    const proxy = await UdpFaultProxy.start({ targetPort: await udpEcho() });
    cleanups.push(() => proxy.close());
    let first = true;
    proxy.filter = (direction) => (direction === 'to-client' && first ? ((first = false), 'drop') : 'pass');
    const got = await exchange(proxy.port, 3, 200);
    expect(got).toEqual([1, 2]);
  });
});

describe('TcpCutProxy', () => {
  it('passes bytes through and cuts connections at the configured rate', async () => {
    const server = createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const proxy = await TcpCutProxy.start({ targetPort: port, cutProbability: 0 });
    cleanups.push(() => proxy.close());

    const echoOnce = (payload: string) =>
      new Promise<string>((resolve) => {
        const c = connect(proxy.port, '127.0.0.1');
        let got = '';
        c.on('data', (d) => {
          got += d.toString();
          if (got.length >= payload.length) c.end();
        });
        c.on('close', () => resolve(got));
        c.on('error', () => resolve(got));
        c.write(payload);
      });
    expect(await echoOnce('hello through the proxy')).toBe('hello through the proxy');

    proxy.cutProbability = 1;
    const cutResult = await echoOnce('x'.repeat(100));
    expect(cutResult.length).toBeLessThan(100);
    expect(proxy.stats.cuts).toBeGreaterThanOrEqual(1);
    expect(proxy.stats.connections).toBe(2);
  });
});
