/**
 * GET /v1/events on a listening app over a real store: the stream says
 * hello, then carries alerts (to security and viewer only), command
 * changes (an operator sees its own), acknowledgements; a token in the
 * query string is refused like everywhere else.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { CommandService } from '../../src/commands/command-service.js';
import { EventBus, observeStore } from '../../src/api/routes/events-bus.js';
import type { AlertInput } from '../../src/store/store.js';
import { apiFixture } from '../helpers/api-fixture.js';

type Fixture = Awaited<ReturnType<typeof apiFixture>>;
let f: Fixture;
let app: Awaited<ReturnType<typeof buildApp>>;
let base = '';
let bus: EventBus;

const alert = (id: string, principal: string): AlertInput => ({
  alertId: id, hostId: 'hv-01', kind: 'unknown_principal', principal, action: 'start', domain: 'web-1', reason: 'r', timeMs: 1, requestId: '', signatureStatus: 'verified', receivedAtMs: 2, raw: new Uint8Array([1]),
});

beforeEach(async () => {
  f = await apiFixture();
  bus = new EventBus();
  const store = observeStore(f.store, bus);
  const commands = new CommandService({ store, clock: f.clock.now, randomBytes: (n) => new Uint8Array(n).map(() => Math.floor(Math.random() * 256)) });
  app = await buildApp({ store, commands, metrics: f.metrics, clock: f.clock.now, events: bus });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterEach(async () => {
  await app.close();
  await f.close();
});

/** Opens the stream as `who` and collects parsed events until `count` arrived. */
async function stream(who: string) {
  const ctl = new AbortController();
  const res = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${f.tokens[who]}` }, signal: ctl.signal });
  // Link events come from the link watcher on its own clock; these tests look at the rest.
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data && event !== 'link') events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    events,
    async until(n: number) {
      for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      return events;
    },
    async close() {
      ctl.abort();
      await pump;
    },
  };
}

describe('GET /v1/events', () => {
  it('streams alerts to security and viewer, commands to their operator, acknowledgements to all who read alerts', async () => {
    const sec = await stream('sec');
    const vic = await stream('vic');
    const oscar = await stream('oscar');
    expect(sec.status).toBe(200);
    expect(sec.type).toMatch(/^text\/event-stream/);
    await sec.until(1);
    expect(sec.events[0]).toEqual({ event: 'hello', data: { principal: 'sec', roles: ['security'] } });

    const store = observeStore(f.store, bus);
    await store.apply([{ kind: 'alert.insert', alert: alert('a1', 'mallory') }]);
    const issued = await app.inject({ method: 'POST', url: '/v1/hosts/hv-01/domains/web-1/actions', headers: f.as('oscar'), payload: { action: 'start' } });
    expect(issued.statusCode).toBe(202);
    const ack = await app.inject({ method: 'POST', url: `/v1/alerts/${(await f.store.listAlerts({}))[0]!.id}/ack`, headers: f.as('sec'), payload: { comment: 'red team' } });
    expect(ack.statusCode).toBe(200);

    const secEvents = await sec.until(4);
    expect(secEvents.map((e) => e.event)).toEqual(['hello', 'alert', 'command', 'alert']);
    expect(secEvents[1]!.data).toMatchObject({ alertId: 'a1', principal: 'mallory', acknowledged: false });
    expect(secEvents[3]!.data).toMatchObject({ alertId: 'a1', acknowledged: true, acknowledgedBy: 'sec', acknowledgedComment: 'red team' });
    expect((await vic.until(4)).map((e) => e.event)).toEqual(['hello', 'alert', 'command', 'alert']);
    const oscarEvents = await oscar.until(2);
    await new Promise((r) => setTimeout(r, 100));
    // An operator reads no alerts, and sees its own command.
    expect(oscarEvents.map((e) => e.event)).toEqual(['hello', 'command']);
    expect(oscarEvents[1]!.data).toMatchObject({ principal: 'oscar', state: 'queued', action: 'start', domain: 'web-1' });
    await Promise.all([sec.close(), vic.close(), oscar.close()]);
  });

  it('refuses a token in the query string and a missing token', async () => {
    const q = await fetch(`${base}/v1/events?token=${f.tokens.sec}`);
    expect(q.status).toBe(401);
    expect(((await q.json()) as { message: string }).message).toMatch(/credentials in the URL are refused/);
    expect((await fetch(`${base}/v1/events`)).status).toBe(401);
  });
});
