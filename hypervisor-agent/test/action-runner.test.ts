import { describe, expect, it } from 'vitest';
import { ActionRunner } from '../src/agent/action-runner.js';
import { FakeTimers, gate, settle } from './helpers/fake-timers.js';

/** A job that logs its start and end and finishes when the test opens its gate. */
function held(log: string[], name: string) {
  const g = gate();
  const job = async (): Promise<void> => {
    log.push(`start ${name}`);
    await g.promise;
    log.push(`end ${name}`);
  };
  return { job, open: g.open };
}

describe('ActionRunner (fake clock)', () => {
  it('runs jobs of one key one at a time, in the order they were handed over', async () => {
    const timers = new FakeTimers();
    const runner = new ActionRunner({ maxConcurrent: 4, timers });
    const log: string[] = [];
    const [a, b, c] = ['a1', 'a2', 'a3'].map((n) => held(log, n));
    runner.submit('dom-a', a!.job);
    runner.submit('dom-a', b!.job);
    runner.submit('dom-a', c!.job);
    await settle();
    expect(log).toEqual(['start a1']);
    expect([runner.active, runner.waiting]).toEqual([1, 2]);
    b!.open(); // the second one's gate opening early changes nothing: it has not started
    await settle();
    expect(log).toEqual(['start a1']);
    a!.open();
    await settle();
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3']);
    c!.open();
    await runner.idle();
    expect(log.at(-1)).toBe('end a3');
  });

  it('runs different keys concurrently, at most maxConcurrent, serving waiting keys in arrival order', async () => {
    const runner = new ActionRunner({ maxConcurrent: 2, timers: new FakeTimers() });
    const log: string[] = [];
    const jobs = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, held(log, n)]));
    for (const n of ['a', 'b', 'c', 'd']) runner.submit(`dom-${n}`, jobs[n]!.job);
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    expect([runner.active, runner.waiting]).toEqual([2, 2]);
    jobs.b!.open();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    jobs.c!.open();
    await settle();
    expect(log.slice(-2)).toEqual(['end c', 'start d']);
    jobs.a!.open();
    jobs.d!.open();
    await runner.idle();
    expect(runner.active + runner.waiting).toBe(0);
  });

  it('lets another key go first when a busy key has more work (no lane holds a slot twice in a row while others wait)', async () => {
    const runner = new ActionRunner({ maxConcurrent: 1, timers: new FakeTimers() });
    const log: string[] = [];
    const a1 = held(log, 'a1');
    const a2 = held(log, 'a2');
    const b1 = held(log, 'b1');
    runner.submit('a', a1.job);
    runner.submit('b', b1.job);
    runner.submit('a', a2.job);
    a1.open();
    b1.open();
    a2.open();
    await runner.idle();
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start a1', 'start b1', 'start a2']);
  });

  it('calls onSlow once for a job still running after slowAfterMs, never for one that finished', async () => {
    const timers = new FakeTimers();
    const runner = new ActionRunner({ maxConcurrent: 2, timers });
    const log: string[] = [];
    const slow = held(log, 'slow');
    const quick = held(log, 'quick');
    const slowCalls: string[] = [];
    runner.submit('x', slow.job, { slowAfterMs: 1000, onSlow: () => slowCalls.push('slow') });
    runner.submit('y', quick.job, { slowAfterMs: 1000, onSlow: () => slowCalls.push('quick') });
    await timers.advance(999);
    quick.open();
    await settle();
    expect(slowCalls).toEqual([]);
    await timers.advance(1);
    expect(slowCalls).toEqual(['slow']);
    await timers.advance(10_000);
    expect(slowCalls).toEqual(['slow']);
    slow.open();
    await runner.idle();
    expect(timers.pendingCount).toBe(0);
  });

  it('keeps going after a job throws, and reports the error with its key', async () => {
    const errors: [string, string][] = [];
    const runner = new ActionRunner({ maxConcurrent: 1, timers: new FakeTimers(), onError: (err, key) => errors.push([key, (err as Error).message]) });
    const ran: string[] = [];
    runner.submit('k', async () => {
      throw new Error('boom');
    });
    runner.submit('k', async () => {
      ran.push('second');
    });
    await runner.idle();
    expect(errors).toEqual([['k', 'boom']]);
    expect(ran).toEqual(['second']);
  });

  it('stop: waits for running jobs up to the grace, then aborts them, drops queued ones and takes no more', async () => {
    const timers = new FakeTimers();
    const runner = new ActionRunner({ maxConcurrent: 2, timers });
    const log: string[] = [];
    const quick = held(log, 'quick');
    runner.submit('a', quick.job);
    runner.submit('b', async (signal) => {
      log.push('start stubborn');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      log.push(`aborted stubborn: ${(signal.reason as Error).message}`);
    });
    runner.submit('a', async () => {
      log.push('never');
    });
    await settle();
    const stopped = runner.stop(3000);
    expect(runner.submit('c', async () => void log.push('refused'))).toBe(false);
    quick.open();
    await timers.advance(2999);
    expect(log).toEqual(['start quick', 'start stubborn', 'end quick']);
    await timers.advance(1);
    // One queued job dropped, one running job aborted at the deadline.
    expect(await stopped).toBe(2);
    expect(log).toEqual(['start quick', 'start stubborn', 'end quick', 'aborted stubborn: the agent is stopping']);
  });

  it('stop returns at once with nothing running', async () => {
    const runner = new ActionRunner({ maxConcurrent: 1, timers: new FakeTimers() });
    expect(await runner.stop(5000)).toBe(0);
    expect(() => new ActionRunner({ maxConcurrent: 0 })).toThrow(RangeError);
  });
});
