import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopback, takeoverDecision } from '../../src/system-interface/vm-listener.js';
import { tempDir } from '../helpers/temp-dir.js';
import { useVmSession } from './helpers/vm-session.js';
import { VmTestClient } from './vm-test-client.js';

const { start, track } = useVmSession();

describe('host link listener policy (issue 13 item 4)', () => {
  it('never lets a newcomer take a live unix or loopback connection; replaces only a silent network one', () => {
    expect(takeoverDecision({ kind: 'unix', loopback: false, silentMs: 3_600_000, staleAfterMs: 30_000 })).toBe('refuse');
    expect(takeoverDecision({ kind: 'tcp', loopback: true, silentMs: 3_600_000, staleAfterMs: 30_000 })).toBe('refuse');
    expect(takeoverDecision({ kind: 'tcp', loopback: false, silentMs: 29_999, staleAfterMs: 30_000 })).toBe('refuse');
    expect(takeoverDecision({ kind: 'tcp', loopback: false, silentMs: 30_000, staleAfterMs: 30_000 })).toBe('replace');
    expect([isLoopback('127.0.0.1'), isLoopback('::ffff:127.0.0.2'), isLoopback('::1'), isLoopback('192.0.2.1')]).toEqual([true, true, true, false]);
  });

  it('creates the unix socket owner-only (0600)', async () => {
    const path = join(tempDir('bmc-vm-'), 'host.sock');
    await start({ specs: [{ kind: 'unix', path, text: `unix:${path}` }] });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('a second unix-socket connection is refused as a takeover while the first lives', async () => {
    const path = join(tempDir('bmc-vm-'), 'host.sock');
    const takeovers: string[] = [];
    const h = await start({ specs: [{ kind: 'unix', path, text: `unix:${path}` }], takeoverGraceMs: 100, onTakeover: (e) => takeovers.push(e.listen) });
    const host = track(await VmTestClient.connectUnix(path));
    await host.until(() => host.controls.length > 0);
    const intruder = track(await VmTestClient.connectUnix(path));
    await intruder.closed;
    expect(takeovers).toEqual([`unix:${path}`]);
    expect((await host.request(0x06, 0x01)).cc).toBe(0);
    expect(h.si.stats().takeoversRefused).toBe(1);
  });
});
