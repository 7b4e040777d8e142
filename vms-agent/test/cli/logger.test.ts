import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/cli/logger.js';

describe('service logger', () => {
  it('redacts tokens, passwords, seeds and secret keys', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const log = createLogger('info', sink);
    log.info({ req: { headers: { authorization: 'Bearer bct_secret-token' } } }, 'request');
    log.info({ host: { bmcPassword: 'pw-1', seed: 'c2VlZA==' }, principal: { secretKey: 'ed25519-secret:abc' }, token: 'bct_x' }, 'objects');
    const text = lines.join('');
    for (const secret of ['bct_secret-token', 'pw-1', 'c2VlZA==', 'ed25519-secret:abc', 'bct_x']) expect(text).not.toContain(secret);
    expect(text.match(/\[redacted\]/g)?.length).toBe(5);
  });
});
