/** Alert delivery: each sink's state (pending, delivered, dead, last error) and its dead letters, with redelivery for the security role. */
import { ApiError, api } from '../api.js';
import type { Page } from '../context.js';
import { age, badge, clear, errorBox, h, time } from '../dom.js';

interface Sink {
  sink: string;
  type: string;
  target: string;
  maxAttempts: number;
  pending: number;
  delivered: number;
  dead: number;
  oldestPendingAtMs: number | null;
  lastDeliveredAtMs: number | null;
  lastError: string | null;
  lastErrorAtMs: number | null;
}

interface Delivery {
  sink: string;
  seq: number;
  alertId: number;
  kind: string;
  hostId: string;
  state: string;
  attempts: number;
  lastError: string | null;
  updatedAtMs: number;
  queuedAtMs: number;
}

export const deliveriesPage: Page = (ctx, main) => {
  const sinksEl = h('div', { id: 'sinks' });
  const deadEl = h('div', { id: 'dead' });
  clear(main, h('h1', {}, 'Alert delivery'), sinksEl, h('h2', {}, 'Dead letters'), deadEl);

  async function load(): Promise<void> {
    try {
      const [{ sinks }, { deliveries }] = await Promise.all([api<{ sinks: Sink[] }>('GET', '/v1/deliveries'), api<{ deliveries: Delivery[] }>('GET', '/v1/deliveries/entries?state=dead&limit=200')]);
      const now = Date.now();
      clear(
        sinksEl,
        sinks.length === 0
          ? h('p', {}, 'No alert sinks are configured (alertSinks in the vms-agent config).')
          : h(
              'table',
              { class: 'sinks', 'aria-label': 'Alert sinks' },
              h('thead', {}, h('tr', {}, ['Sink', 'Target', 'Pending', 'Delivered', 'Dead', 'Oldest pending', 'Last delivered', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))),
              h(
                'tbody',
                {},
                sinks.map((s) =>
                  h(
                    'tr',
                    { 'data-sink': s.sink },
                    h('th', { scope: 'row' }, `${s.sink} (${s.type})`),
                    h('td', {}, s.target),
                    h('td', {}, s.pending ? badge(String(s.pending), 'warn') : '0'),
                    h('td', {}, s.delivered),
                    h('td', {}, s.dead ? badge(String(s.dead), 'bad') : '0'),
                    h('td', {}, s.oldestPendingAtMs ? `${age(now - s.oldestPendingAtMs)}` : '—'),
                    h('td', {}, time(s.lastDeliveredAtMs)),
                    h('td', {}, s.lastError ? [s.lastError, ' (', time(s.lastErrorAtMs), ')'] : '—'),
                  ),
                ),
              ),
            ),
      );
      clear(
        deadEl,
        deliveries.length === 0
          ? h('p', {}, 'None.')
          : h(
              'table',
              { class: 'dead', 'aria-label': 'Dead letters' },
              h('thead', {}, h('tr', {}, ['Sink', 'Alert', 'Attempts', 'Last error', 'Gave up', ctx.has('security') ? 'Action' : null].filter(Boolean).map((t) => h('th', { scope: 'col' }, t as string)))),
              h(
                'tbody',
                {},
                deliveries.map((d) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, d.sink),
                    h('td', {}, h('a', { href: `#/alerts/${d.alertId}` }, `#${d.alertId} ${d.kind} on ${d.hostId}`)),
                    h('td', {}, d.attempts),
                    h('td', {}, d.lastError ?? '—'),
                    h('td', {}, time(d.updatedAtMs)),
                    ctx.has('security')
                      ? h('td', {}, h('button', { type: 'button', onclick: () => void api('POST', `/v1/deliveries/${encodeURIComponent(d.sink)}/${d.seq}/redeliver`).then(load).catch((err: unknown) => alert(err instanceof ApiError ? err.message : String(err))) }, 'Redeliver'))
                      : null,
                  ),
                ),
              ),
            ),
      );
    } catch (err) {
      clear(sinksEl, errorBox(err instanceof ApiError ? err.message : String(err)));
    }
  }
  void load();
  const timer = setInterval(() => void load(), 5000);
  return () => clearInterval(timer);
};
