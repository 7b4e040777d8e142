/** The pure parts of alert delivery: retry schedule, RFC 5424 formatting and framing, Standard Webhooks signatures, sink configuration. */
import { describe, expect, it } from 'vitest';
import { afterFailure } from '../../src/alerts/retry-schedule.js';
import { parseAlertSinks, sinkTarget } from '../../src/alerts/sink-config.js';
import { escapeParamValue, formatAlertSyslog, octetCountedFrame } from '../../src/alerts/syslog-format.js';
import { signWebhook, verifyWebhook, webhookKey } from '../../src/alerts/webhook-signature.js';
import type { AlertRecord } from '../../src/store/store.js';

const alert: AlertRecord = {
  id: 7,
  alertId: 'a-1',
  hostId: 'hv-01',
  kind: 'unknown_principal',
  principal: 'mallory',
  action: 'start',
  domain: 'web-1',
  reason: 'principal "mallory" is not in the policy ] \\ ü',
  timeMs: 1_800_000_000_000,
  requestId: 'r-1',
  signatureStatus: 'verified',
  receivedAtMs: 1_800_000_000_500,
  acknowledged: false,
};

describe('retry schedule', () => {
  const policy = { maxAttempts: 5, baseMs: 1000, maxMs: 6000 };
  it('doubles from the base, capped, with the delay in [nominal/2, nominal)', () => {
    expect(afterFailure(policy, 1, 0, 0)).toEqual({ dead: false, nextAttemptAtMs: 500 });
    expect(afterFailure(policy, 1, 0, 0.999999)).toEqual({ dead: false, nextAttemptAtMs: 1000 });
    expect(afterFailure(policy, 2, 100, 0)).toEqual({ dead: false, nextAttemptAtMs: 1100 });
    expect(afterFailure(policy, 3, 0, 0.5)).toEqual({ dead: false, nextAttemptAtMs: 3000 });
    expect(afterFailure(policy, 4, 0, 0)).toEqual({ dead: false, nextAttemptAtMs: 3000 }); // 8000 capped to 6000
  });
  it('is dead after maxAttempts', () => {
    expect(afterFailure(policy, 5, 0, 0)).toEqual({ dead: true });
    expect(afterFailure({ ...policy, maxAttempts: 1 }, 1, 0, 0)).toEqual({ dead: true });
  });
});

describe('RFC 5424 syslog', () => {
  it('formats header, structured data with every field, and a UTF-8 message', () => {
    const m = formatAlertSyslog(alert, { hostname: 'mgr 1', procId: '42', facility: 'authpriv' });
    // authpriv (10) * 8 + warning (4)
    expect(m.startsWith('<84>1 2027-01-15T08:00:00.500Z mgr_1 vms-agent 42 unknown_principal [backchannel@32473 id="7" alertId="a-1" host="hv-01" kind="unknown_principal"')).toBe(true);
    expect(m).toContain(' principal="mallory" action="start" domain="web-1" reason="principal \\"mallory\\" is not in the policy \\] \\\\ ü" timeMs="1800000000000"');
    expect(m).toContain(' requestId="r-1" signature="verified" receivedAtMs="1800000000500"] \uFEFFunknown_principal alert from hv-01');
  });
  it('raises the severity to critical for a forged alert', () => {
    expect(formatAlertSyslog({ ...alert, signatureStatus: 'bad' }, { hostname: 'h', procId: '1', facility: 'auth' }).startsWith('<34>1 ')).toBe(true);
  });
  it('escapes ", \\ and ] in parameter values only', () => {
    expect(escapeParamValue('a"b\\c]d[e')).toBe('a\\"b\\\\c\\]d[e');
  });
  it('octet-counts in bytes, not characters', () => {
    expect(octetCountedFrame('ü').toString('utf8')).toBe('2 ü');
  });
});

describe('Standard Webhooks signatures', () => {
  // The test vector of the Standard Webhooks reference libraries.
  const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const body = '{"test": 2432232314}';
  it('matches the reference vector', () => {
    expect(signWebhook(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
  it('verifies, and refuses a changed body, id, old timestamp or another key', () => {
    const sig = signWebhook(key, 'msg_1', 1000, body);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: `v1,bogus ${sig}` }, body, 1100)).toBe(true);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: sig }, body + ' ', 1100)).toBe(false);
    expect(verifyWebhook(key, { id: 'msg_2', timestamp: '1000', signature: sig }, body, 1100)).toBe(false);
    expect(verifyWebhook(key, { id: 'msg_1', timestamp: '1000', signature: sig }, body, 1000 + 301)).toBe(false);
    expect(verifyWebhook(webhookKey(`whsec_${Buffer.alloc(32, 1).toString('base64')}`), { id: 'msg_1', timestamp: '1000', signature: sig }, body, 1000)).toBe(false);
  });
  it('says what is wrong with a secret', () => {
    expect(() => webhookKey('abc')).toThrow(/begins with "whsec_"/);
    expect(() => webhookKey('whsec_!!')).toThrow(/not base64/);
    expect(() => webhookKey('whsec_AAAA')).toThrow(/3 bytes/);
  });
});

describe('alertSinks configuration', () => {
  it('fills defaults and resolves files against the config directory', () => {
    const [s, w] = parseAlertSinks(
      [
        { name: 'siem', type: 'syslog', transport: 'tls', address: 'siem.example', caFile: 'ca.pem' },
        { name: 'chat', type: 'webhook', url: 'https://hooks.example/T000/secret-path?x=1', secretFile: '/etc/x.whsec', maxAttempts: 3 },
      ],
      '/etc/vms-agent',
    );
    expect(s).toMatchObject({ type: 'syslog', transport: 'tls', host: 'siem.example', port: 6514, facility: 'authpriv', caFile: '/etc/vms-agent/ca.pem', retry: { maxAttempts: 12 } });
    expect(w).toMatchObject({ type: 'webhook', secretFile: '/etc/x.whsec', retry: { maxAttempts: 3, baseMs: 1000 } });
    expect(sinkTarget(s!)).toBe('syslog+tls://siem.example:6514');
    expect(sinkTarget(w!)).toBe('https://hooks.example');
  });
  it.each([
    [{}, /"alertSinks" must be an array/],
    [[{ type: 'syslog', address: 'x' }], /"name" must be a non-empty string/],
    [[{ name: 'A B', type: 'syslog', address: 'x' }], /"name" must be 1-63/],
    [[{ name: 's', type: 'kafka' }], /"type" must be "syslog" or "webhook"/],
    [[{ name: 's', type: 'syslog', address: 'x', port: 5 }], /unknown key "port"/],
    [[{ name: 's', type: 'syslog', transport: 'udp', address: 'x', caFile: 'a' }], /caFile only apply with "transport": "tls"/],
    [[{ name: 's', type: 'syslog', address: 'x:99999' }], /HOST or HOST:PORT/],
    [[{ name: 's', type: 'syslog', address: 'x', facility: 'nope' }], /"facility" must be one of/],
    [[{ name: 'w', type: 'webhook', url: 'ftp://x', secretFile: 'f' }], /http:\/\/ or https:\/\//],
    [[{ name: 'w', type: 'webhook', url: 'http://x' }], /"secretFile" must be/],
    [[{ name: 'w', type: 'webhook', url: 'http://x', secretFile: 'f', retryBaseMs: 5000, retryMaxMs: 100 }], /"retryMaxMs" must be at least/],
    [[{ name: 'd', type: 'syslog', address: 'x' }, { name: 'd', type: 'syslog', address: 'y' }], /already configured/],
  ])('refuses %j', (value, message) => {
    expect(() => parseAlertSinks(value, '/')).toThrow(message);
  });
});
