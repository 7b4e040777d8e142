/**
 * The console shell: sign-in, navigation between pages (hash routes, so
 * the server serves one index.html), the live-stream indicator, sign-out.
 */
import './style.css';
import { api, type Me, setToken, token, whenUnauthenticated } from './api.js';
import type { Page, PageContext } from './context.js';
import { clear, h } from './dom.js';
import { EventStream } from './events.js';
import { alertsPage } from './pages/alerts.js';
import { commandsPage } from './pages/commands.js';
import { deliveriesPage } from './pages/deliveries.js';
import { fleetPage } from './pages/fleet.js';
import { signInPage } from './pages/sign-in.js';

const PAGES: Record<string, { title: string; page: Page; roles?: string[] }> = {
  alerts: { title: 'Alerts', page: alertsPage, roles: ['security', 'viewer'] },
  fleet: { title: 'Fleet', page: fleetPage },
  commands: { title: 'Commands', page: commandsPage },
  deliveries: { title: 'Alert delivery', page: deliveriesPage, roles: ['security', 'viewer'] },
};

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
let me: Me | null = null;
let stream: EventStream | null = null;
let cleanup: () => void = () => undefined;

function liveBadge(state: string): HTMLElement {
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline, retrying';
  return h('span', { class: `live ${state}`, id: 'live-state', title: 'Server-sent events from /v1/events' }, text);
}

function signOut(): void {
  setToken(null);
  me = null;
  stream?.stop();
  stream = null;
  route();
}

whenUnauthenticated(() => {
  if (me) signOut();
});

function defaultPage(m: Me): string {
  return m.roles.includes('security') || m.roles.includes('viewer') ? 'alerts' : 'fleet';
}

async function route(): Promise<void> {
  cleanup();
  cleanup = () => undefined;
  if (!me && token()) {
    try {
      me = await api<Me>('GET', '/v1/me');
    } catch {
      setToken(null);
    }
  }
  if (!me) {
    nav.hidden = true;
    clear(who);
    document.title = 'Sign in — Backchannel console';
    cleanup = signInPage(async (t) => {
      me = await api<Me>('GET', '/v1/me', undefined, t);
      setToken(t);
      if (!location.hash || location.hash === '#/') location.hash = `#/${defaultPage(me)}`;
      else void route();
    }, main);
    return;
  }
  const m = me;
  if (!stream) {
    stream = new EventStream((s) => {
      const el = document.getElementById('live-state');
      el?.replaceWith(liveBadge(s));
    });
    stream.on((e) => {
      if (e.event === 'unauthenticated') signOut();
    });
    stream.start();
  }
  nav.hidden = false;
  clear(who, liveBadge(stream.state), h('span', { class: 'principal' }, `${m.principal} (${m.roles.join(', ') || 'no role'})`), h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'));
  const [name = defaultPage(m), ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const entry = PAGES[name];
  for (const a of nav.querySelectorAll('a')) {
    const p = a.dataset.page ?? '';
    const allowed = !PAGES[p]?.roles || PAGES[p].roles.some((r) => m.roles.includes(r));
    a.hidden = !allowed;
    if (p === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!entry) {
    location.hash = `#/${defaultPage(m)}`;
    return;
  }
  document.title = `${entry.title} — Backchannel console`;
  if (entry.roles && !entry.roles.some((r) => m.roles.includes(r))) {
    clear(main, h('h1', {}, entry.title), h('p', { class: 'error', role: 'alert' }, `${m.principal} has the roles ${m.roles.join(', ') || 'none'}; this page needs one of: ${entry.roles.join(', ')}.`));
    return;
  }
  const ctx: PageContext = { me: m, stream, has: (r) => m.roles.includes(r), params };
  clear(main);
  cleanup = entry.page(ctx, main);
}

window.addEventListener('hashchange', () => void route());
void route();
