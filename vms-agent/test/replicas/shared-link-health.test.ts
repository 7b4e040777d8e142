/** Link health shared between replicas (pure, fake clock): notices, freshness, when the owner publishes. */
import { describe, expect, it } from 'vitest';
import type { LinkHealth } from '../../src/api/views.js';
import { decodeHealthNotice, encodeHealthNotice, HealthPublisher, SharedLinkHealth } from '../../src/replicas/shared-link-health.js';

const up: LinkHealth = { state: 'up', since: 5, lastError: null, unacked: 0, lastReceiveAtMs: 7, queues: null };

describe('shared link health', () => {
  it('encodes and decodes a notice; anything else off the wire is ignored, never thrown', () => {
    const text = encodeHealthNotice({ host: 'hv-01', owner: 'a:1:ff', health: up })!;
    expect(decodeHealthNotice(text)).toEqual({ host: 'hv-01', owner: 'a:1:ff', health: up });
    for (const bad of ['', 'null', '{', '{"host":1}', JSON.stringify({ host: 'h', owner: 'o', health: { state: 'weird', since: 1 } }), JSON.stringify({ host: 'h', owner: 'o' })]) {
      expect(decodeHealthNotice(bad), bad).toBeUndefined();
    }
    expect(encodeHealthNotice({ host: 'h', owner: 'o', health: { ...up, lastError: 'x'.repeat(9_000) } })).toBeUndefined(); // over NOTIFY's limit
  });

  it('answers with the latest notice per host until it is older than maxAgeMs', () => {
    let now = 1_000;
    const shared = new SharedLinkHealth(() => now, 10_000);
    shared.accept(encodeHealthNotice({ host: 'hv-01', owner: 'A', health: { ...up, state: 'connecting' } })!);
    shared.accept(encodeHealthNotice({ host: 'hv-01', owner: 'A', health: up })!);
    shared.accept('garbage');
    expect(shared.get('hv-01')).toEqual(up);
    expect(shared.owner('hv-01')).toBe('A');
    expect(shared.get('hv-02')).toBeUndefined();
    now += 10_000;
    expect(shared.get('hv-01')).toEqual(up);
    now += 1; // the owner stopped publishing (died): its last word no longer counts
    expect(shared.get('hv-01')).toBeUndefined();
    expect(shared.owner('hv-01')).toBeUndefined();
  });

  it('the owner publishes on every change and otherwise every refreshMs', () => {
    let now = 0;
    const p = new HealthPublisher(() => now, 3_000);
    expect(p.due('hv-01', up)).toBe(true);
    expect(p.due('hv-01', up)).toBe(false);
    now += 100;
    expect(p.due('hv-01', { ...up, unacked: 1 })).toBe(true);
    now += 2_999;
    expect(p.due('hv-01', { ...up, unacked: 1 })).toBe(false);
    now += 1;
    expect(p.due('hv-01', { ...up, unacked: 1 })).toBe(true);
    p.forget('hv-01');
    expect(p.due('hv-01', { ...up, unacked: 1 })).toBe(true);
  });
});
