import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Action, AlertKind, generateSigningKeyPair, verifyAlert } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { buildAlert } from '../src/alerts/alert-factory.js';
import { AlertJournal } from '../src/alerts/alert-journal.js';
import { createLogger } from '../src/observability/logger.js';
import { rnd } from './helpers/keys.js';
import { tempDir } from './helpers/temp-dir.js';

describe('alerts', () => {
  it('are signed with the host key and appended to a 0600 JSON-lines journal', () => {
    const hostKey = generateSigningKeyPair(rnd);
    const path = join(tempDir('alerts-'), 'alerts.jsonl');
    const journal = new AlertJournal(path);
    const ctx = { hostId: 'hv-1', hostKey, nowMs: 1_700_000_000_000, randomBytes: rnd };
    const a = buildAlert({ kind: AlertKind.ALERT_KIND_UNKNOWN_PRINCIPAL, reason: 'principal "eve" is not in the policy', principal: 'eve', action: Action.ACTION_START, domain: 'web-1', requestId: 'r1' }, ctx);
    const b = buildAlert({ kind: AlertKind.ALERT_KIND_REPLAY, reason: 'replayed' }, ctx);
    expect(verifyAlert(a, hostKey.publicKey)).toBe(true);
    expect(verifyAlert({ ...a, reason: 'edited' }, hostKey.publicKey)).toBe(false);
    expect(a.id).not.toBe(b.id);
    journal.append(a);
    journal.append(b);
    journal.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines.map((l) => [l.kind, l.principal, l.action, l.requestId])).toEqual([
      ['unknown_principal', 'eve', 'start', 'r1'],
      ['replay', '', '', ''],
    ]);
    expect(Buffer.from(lines[0]!.signature!, 'base64')).toHaveLength(64);
    const reopened = new AlertJournal(path);
    reopened.append(b);
    reopened.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3);
  });
});

describe('logger', () => {
  it('redacts secret-looking fields', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, cb) => ((out += String(chunk)), cb()) });
    const log = createLogger('info', sink);
    log.info({ seed: 'c2VjcmV0', config: { hostKey: 'ed25519-secret:abc' }, nonce: 'aa', requestId: 'r1' }, 'hello');
    expect(out).not.toMatch(/c2VjcmV0|ed25519-secret|"nonce":"aa"/);
    expect(out).toMatch(/"seed":"\[redacted\]"/);
    expect(out).toMatch(/"requestId":"r1"/);
  });
});
