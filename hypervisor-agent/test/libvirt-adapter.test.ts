import { resolve } from 'node:path';
import { Action, DomainState, Outcome } from '@backchannel/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LibvirtAdapter, waitForShutoff } from '../src/libvirt/libvirt-adapter.js';
import type { CallRequest } from '../src/libvirt/libvirt-calls.js';
import { libvirtThreads } from '../src/libvirt/libvirt-threads.js';

export const FIXTURE_URI = `test://${resolve(import.meta.dirname, 'fixtures/node.xml')}`;

describe('LibvirtAdapter against the libvirt test driver (3-domain fixture)', () => {
  let lv: LibvirtAdapter;
  beforeEach(async () => {
    // Each test:/// connection has its own copy of the fixture's state.
    lv = new LibvirtAdapter({ uri: FIXTURE_URI, shutdownTimeoutMs: 2000, shutdownPollMs: 10 });
    await lv.connect();
  });
  afterEach(async () => lv.close());

  /** Resolves `name` as the processor does, then applies `action` to what it resolved to. */
  async function act(action: Action, name: string) {
    const resolution = await lv.resolve(name);
    if (resolution.kind !== 'found') throw new Error(`${name}: ${resolution.failure.code}`);
    return lv.execute(action, resolution.target);
  }

  it('lists the three domains with their fixture states', async () => {
    const result = await lv.execute(Action.ACTION_LIST_DOMAINS, undefined);
    expect(result.outcome).toBe(Outcome.OUTCOME_APPLIED);
    expect(result.domains?.map((d) => [d.name, d.state, d.vcpus, d.memoryKib])).toEqual([
      ['db-1', DomainState.DOMAIN_STATE_PAUSED, 4, 1048576],
      ['web-1', DomainState.DOMAIN_STATE_RUNNING, 2, 524288],
      ['web-2', DomainState.DOMAIN_STATE_SHUTOFF, 1, 262144],
    ]);
    expect(result.domains?.find((d) => d.name === 'web-2')?.id).toBe(-1);
  });

  it('answers domain_info', async () => {
    const result = await act(Action.ACTION_DOMAIN_INFO, 'web-1');
    expect(result.domainInfo).toMatchObject({ name: 'web-1', uuid: '6695eb01-f6a4-8304-79aa-97f2502e1931', state: DomainState.DOMAIN_STATE_RUNNING });
  });

  it.each([
    [Action.ACTION_START, 'web-2', DomainState.DOMAIN_STATE_SHUTOFF, DomainState.DOMAIN_STATE_RUNNING],
    [Action.ACTION_SHUTDOWN, 'web-1', DomainState.DOMAIN_STATE_RUNNING, DomainState.DOMAIN_STATE_SHUTOFF],
    [Action.ACTION_DESTROY, 'web-1', DomainState.DOMAIN_STATE_RUNNING, DomainState.DOMAIN_STATE_SHUTOFF],
    [Action.ACTION_REBOOT, 'web-1', DomainState.DOMAIN_STATE_RUNNING, DomainState.DOMAIN_STATE_RUNNING],
    [Action.ACTION_RESET, 'web-1', DomainState.DOMAIN_STATE_RUNNING, DomainState.DOMAIN_STATE_RUNNING],
    [Action.ACTION_SUSPEND, 'web-1', DomainState.DOMAIN_STATE_RUNNING, DomainState.DOMAIN_STATE_PAUSED],
    [Action.ACTION_RESUME, 'db-1', DomainState.DOMAIN_STATE_PAUSED, DomainState.DOMAIN_STATE_RUNNING],
  ])('applies action %i to %s (%i -> %i)', async (action, domain, before, after) => {
    const result = await act(action, domain);
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, previousState: before, newState: after, errorCode: '' });
    expect((await lv.domainInfo(domain)).state).toBe(after);
  });

  it('describes, acts and describes again in one call thread trip', async () => {
    const threads = libvirtThreads();
    const ops: string[] = [];
    const call = threads.call.bind(threads);
    threads.call = ((req: CallRequest) => {
      ops.push(req.op);
      return call(req);
    }) as typeof threads.call;
    try {
      const target = await lv.resolve('web-1');
      if (target.kind !== 'found') throw new Error('web-1 not found');
      ops.length = 0;
      expect(await lv.execute(Action.ACTION_SUSPEND, target.target)).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, newState: DomainState.DOMAIN_STATE_PAUSED });
      expect(ops).toEqual(['apply']);
    } finally {
      threads.call = call;
    }
  });

  it("gives the domain's libvirt id right after an action (the manager's status copy is updated from it)", async () => {
    const started = await act(Action.ACTION_START, 'web-2');
    const info = await lv.domainInfo('web-2');
    expect(info.id).toBeGreaterThan(0);
    expect(started.domainIdAfter).toBe(info.id);
    expect((await act(Action.ACTION_DESTROY, 'web-2')).domainIdAfter).toBe(-1);
    // A shutdown (waited for, and maybe the domain gone) and a domain_info give none.
    expect((await act(Action.ACTION_SHUTDOWN, 'web-1')).domainIdAfter).toBeUndefined();
    expect((await act(Action.ACTION_DOMAIN_INFO, 'db-1')).domainIdAfter).toBeUndefined();
  });

  it("resolves a name to libvirt's canonical name and UUID, and an unknown one to VIR_ERR_NO_DOMAIN", async () => {
    expect(await lv.resolve('db-1')).toEqual({ kind: 'found', target: { name: 'db-1', uuid: '6695eb01-f6a4-8304-79aa-97f2502e1933' } });
    const missing = await lv.resolve('no-such-vm');
    expect(missing).toMatchObject({ kind: 'missing', failure: { code: 'VIR_ERR_NO_DOMAIN' } });
    // A C string ends at NUL: libvirt reads 'db-1\0' as 'db-1'. The processor refuses such a
    // name before it gets here, and compares libvirt's name with the requested one byte for byte.
    expect(await lv.resolve('db-1\0-test')).toEqual({ kind: 'found', target: { name: 'db-1', uuid: '6695eb01-f6a4-8304-79aa-97f2502e1933' } });
  });

  it('fails an action on a domain that is gone with VIR_ERR_NO_DOMAIN', async () => {
    const result = await lv.execute(Action.ACTION_START, { name: 'gone', uuid: '6695eb01-f6a4-8304-79aa-97f2502e19ff' });
    expect(result.outcome).toBe(Outcome.OUTCOME_FAILED);
    expect(result.errorCode).toBe('VIR_ERR_NO_DOMAIN');
  });

  it('fails an action invalid in the current state with libvirt code and message', async () => {
    const result = await act(Action.ACTION_DESTROY, 'web-2');
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_FAILED, errorCode: 'VIR_ERR_OPERATION_INVALID', previousState: DomainState.DOMAIN_STATE_SHUTOFF });
    expect(result.errorMessage).toMatch(/domain is not running/);
    const again = await act(Action.ACTION_START, 'web-1');
    // The test driver reports this one as an internal error; the message names the cause.
    expect(again).toMatchObject({ outcome: Outcome.OUTCOME_FAILED, errorCode: 'VIR_ERR_INTERNAL_ERROR', newState: DomainState.DOMAIN_STATE_RUNNING });
    expect(again.errorMessage).toMatch(/already running/);
  });

  it('shuts down a paused guest (the test driver powers off at once)', async () => {
    await act(Action.ACTION_SUSPEND, 'web-1');
    const result = await act(Action.ACTION_SHUTDOWN, 'web-1');
    expect(result).toMatchObject({ outcome: Outcome.OUTCOME_APPLIED, previousState: DomainState.DOMAIN_STATE_PAUSED, newState: DomainState.DOMAIN_STATE_SHUTOFF });
  });

  it('gives up waiting for a guest that does not power off, reporting the state it stayed in', async () => {
    // web-1 was never asked to shut down, so it stays running: the wait must end at the timeout.
    let clock = 0;
    const sleeps: number[] = [];
    const waited = await waitForShutoff(async () => (await lv.domainInfo('web-1')).state ?? DomainState.DOMAIN_STATE_NOSTATE, {
      timeoutMs: 1000,
      pollMs: 250,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    expect(waited).toEqual({ off: false, state: DomainState.DOMAIN_STATE_RUNNING });
    expect(sleeps).toEqual([250, 250, 250, 250]);
  });

  it('fails a connection to a missing fixture with a libvirt error', async () => {
    const broken = new LibvirtAdapter({ uri: 'test:///nonexistent/node.xml', shutdownTimeoutMs: 100 });
    const result = await broken.resolve('web-1');
    expect(result.kind).toBe('error');
    if (result.kind !== 'found') expect(result.failure.message.length).toBeGreaterThan(0);
  });
});
