/**
 * What the koffi route gives beyond the old binding, on the libvirt test
 * driver: libvirt's numeric error codes, reboot and reset in place (same
 * domain id), lifecycle events from libvirt's event loop thread, and
 * shutdown's outcomes (already off, forced).
 */
import { resolve } from 'node:path';
import { Action, DomainState, Outcome, StopMethod } from '@backchannel/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DomainChange, LibvirtAdapter } from '../src/libvirt/libvirt-adapter.js';
import { classifyLibvirtError, LibvirtError, virErrorName } from '../src/libvirt/libvirt-errors.js';
import { libvirtThreads } from '../src/libvirt/libvirt-threads.js';
import { libvirtLibraryVersion } from '../src/libvirt/libvirt-version.js';

const FIXTURE_URI = `test://${resolve(import.meta.dirname, 'fixtures/node.xml')}`;
const WEB_1 = { name: 'web-1', uuid: '6695eb01-f6a4-8304-79aa-97f2502e1931' };
const WEB_2 = { name: 'web-2', uuid: '6695eb01-f6a4-8304-79aa-97f2502e1932' };

describe('libvirt through koffi', () => {
  let lv: LibvirtAdapter;
  beforeEach(async () => {
    lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 1000, shutdownPollMs: 10 });
    await lv.connect();
  });
  afterEach(async () => lv.close());

  it("names libvirt's error numbers as virterror.h does", async () => {
    expect(virErrorName(42)).toBe('VIR_ERR_NO_DOMAIN');
    expect(virErrorName(55)).toBe('VIR_ERR_OPERATION_INVALID');
    expect(virErrorName(110)).toBe('VIR_ERR_MULTIPLE_DOMAINS');
    expect(virErrorName(999)).toBe('VIR_ERR_999');
    const err = await lv.domainInfo('no-such-vm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect((err as LibvirtError).code).toBe(42);
    expect(classifyLibvirtError(err)).toEqual({ code: 'VIR_ERR_NO_DOMAIN', message: expect.stringMatching(/not found/) });
  });

  it('reboots and resets in place: same domain id', async () => {
    const id = (await lv.domainInfo('web-1')).id;
    expect(id).toBeGreaterThan(0);
    for (const action of [Action.ACTION_REBOOT, Action.ACTION_RESET]) {
      const result = await lv.execute(action, WEB_1);
      expect(result).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, newState: DomainState.DOMAIN_STATE_RUNNING });
      expect(result.detail).toMatch(/unchanged/);
      expect((await lv.domainInfo('web-1')).id).toBe(id);
    }
  });

  it('delivers lifecycle events from the event loop thread', async () => {
    const seen: DomainChange[] = [];
    const off = lv.onDomainEvent((c) => seen.push(c));
    await lv.execute(Action.ACTION_SUSPEND, WEB_1);
    await lv.execute(Action.ACTION_START, WEB_2);
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    off();
    // virDomainEventType: 2 = STARTED, 3 = SUSPENDED.
    expect(seen.map((c) => [c.name, c.kind, c.event])).toEqual(expect.arrayContaining([['web-1', 'lifecycle', 3], ['web-2', 'lifecycle', 2]]));
    expect(seen.find((c) => c.name === 'web-1')?.uuid).toBe(WEB_1.uuid);
  });

  it('reports a shutdown of a domain already shut off as such, not as an error', async () => {
    const result = await lv.execute(Action.ACTION_SHUTDOWN, WEB_2);
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, stopMethod: StopMethod.STOP_METHOD_ALREADY_OFF, newState: DomainState.DOMAIN_STATE_SHUTOFF });
  });

  it('reads the library version', () => {
    expect(libvirtLibraryVersion()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('runs calls on worker threads, several at once', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => lv.listDomains()));
    expect(all.every((d) => d.length === 3)).toBe(true);
    expect(libvirtThreads().maxThreads).toBeGreaterThan(1);
  });
});
