import { DomainState, type DomainInfo, type StatusReport } from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { StatusReporter } from '../src/agent/status-reporter.js';

const RUNNING = DomainState.DOMAIN_STATE_RUNNING;
const SHUTOFF = DomainState.DOMAIN_STATE_SHUTOFF;

function setup(initial: DomainInfo[]) {
  let domains = initial;
  const sent: StatusReport[] = [];
  let seq = 0;
  const reporter = new StatusReporter({
    hostId: 'hv-01',
    agentVersion: '0',
    libvirtVersion: '0',
    hypervisor: 'Test',
    intervalMs: 60_000,
    pollMs: 5_000,
    listDomains: async () => domains,
    send: (r) => sent.push(r),
    nextSeq: () => ++seq,
  });
  return { reporter, sent, set: (d: DomainInfo[]) => (domains = d) };
}

const two = (web1: DomainState, db1: DomainState): DomainInfo[] => [
  { name: 'db-1', state: db1 },
  { name: 'web-1', state: web1 },
];

describe('StatusReporter', () => {
  it('reports at start, on a change when poked or at the poll, and every interval', async () => {
    const { reporter, sent, set } = setup(two(RUNNING, RUNNING));
    expect(await reporter.tick(0)).toBeDefined();
    expect(await reporter.tick(1_000)).toBeUndefined(); // nothing due, not poked
    set(two(SHUTOFF, RUNNING));
    reporter.poke();
    expect((await reporter.tick(1_100))?.domains).toEqual(two(SHUTOFF, RUNNING));
    reporter.poke();
    expect(await reporter.tick(1_200)).toBeUndefined(); // looked, nothing changed
    set(two(RUNNING, RUNNING));
    expect(await reporter.tick(6_200)).toBeDefined(); // the state poll found it
    expect(await reporter.tick(66_200)).toBeDefined(); // due, unchanged
    expect(sent.map((r) => r.reportSeq)).toEqual([1, 2, 3, 4]);
  });

  it('does not report a change a command result already told the manager', async () => {
    const { reporter, sent, set } = setup(two(RUNNING, RUNNING));
    await reporter.tick(0);
    set(two(SHUTOFF, RUNNING));
    reporter.noteKnown('web-1', SHUTOFF);
    reporter.poke();
    expect(await reporter.tick(100)).toBeUndefined();
    // Another domain changed too: reported, with every domain.
    set(two(SHUTOFF, SHUTOFF));
    reporter.noteKnown('web-1', SHUTOFF);
    reporter.poke();
    expect((await reporter.tick(200))?.domains).toEqual(two(SHUTOFF, SHUTOFF));
    // The domain changed again after its result (the result said running, libvirt says shut off): reported.
    set(two(RUNNING, SHUTOFF));
    reporter.noteKnown('web-1', RUNNING);
    set(two(SHUTOFF, SHUTOFF));
    reporter.poke();
    expect((await reporter.tick(300))?.domains).toEqual(two(SHUTOFF, SHUTOFF));
    expect(sent).toHaveLength(3);
  });

  it('reports a domain the manager has never been told about, even with a result for it', async () => {
    const { reporter, sent, set } = setup(two(RUNNING, RUNNING));
    await reporter.tick(0);
    set([...two(RUNNING, RUNNING), { name: 'web-2', state: RUNNING }]);
    reporter.noteKnown('web-2', RUNNING);
    reporter.poke();
    expect(await reporter.tick(100)).toBeDefined();
    // Before any report, a result changes nothing: the first report still goes out.
    const fresh = setup(two(RUNNING, RUNNING));
    fresh.reporter.noteKnown('web-1', RUNNING);
    expect(await fresh.reporter.tick(0)).toBeDefined();
    expect(sent).toHaveLength(2);
  });
});
