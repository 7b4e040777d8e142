// rmcpTimeoutMs / rmcpRetries: the RMCP+ client's retransmission tuning is
// read from the config file (bounded like the client's own options) and
// reaches the sessions the links open.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { rmcpConnectorWith } from '../../src/link/rmcp-connector.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'rmcp-tuning-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'c.json'), JSON.stringify(content));
  return join(dir, 'c.json');
}

describe('RMCP+ retransmission tuning', () => {
  it('defaults to the client defaults and reads both keys from the config file', () => {
    const defaults = loadConfig({ db: 'x.db' }, {});
    expect([defaults.rmcpTimeoutMs, defaults.rmcpRetries]).toEqual([1000, 3]);
    const tuned = loadConfig({ config: configFile({ rmcpTimeoutMs: 40, rmcpRetries: 6 }) }, {});
    expect([tuned.rmcpTimeoutMs, tuned.rmcpRetries]).toEqual([40, 6]);
  });

  it('refuses values outside the client bounds, naming the key', () => {
    for (const bad of [{ rmcpTimeoutMs: 0 }, { rmcpTimeoutMs: 60_001 }, { rmcpTimeoutMs: 1.5 }, { rmcpRetries: 21 }, { rmcpRetries: -1 }, { rmcpRetries: '3' }]) {
      const key = Object.keys(bad)[0]!;
      expect(() => loadConfig({ config: configFile(bad) }, {}), key).toThrow(new RegExp(`"${key}" must be an integer in`));
    }
  });

  it('a short timeout gives up on a silent BMC in a fraction of the default time', async () => {
    // A bound UDP port that never answers: every handshake attempt times out.
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    try {
      const connect = rmcpConnectorWith({ timeoutMs: 30, retries: 1 });
      const t0 = Date.now();
      const err = await connect({ host: '127.0.0.1', port: silent.address().port, user: 'oper', password: 'pw', privilege: 'operator', cipherSuites: [17] }).catch((e: unknown) => e);
      const elapsed = Date.now() - t0;
      expect((err as { code?: string }).code).toBe('ERR_RMCP_TIMEOUT');
      // With the default 1000 ms per attempt the first attempt alone would take a second.
      expect(elapsed).toBeLessThan(900);
    } finally {
      silent.close();
    }
  });
});
