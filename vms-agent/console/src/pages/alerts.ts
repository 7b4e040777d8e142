/**
 * Alerts, newest first: filters (host, kind, principal, time range,
 * acknowledged), each alert's full detail with its host-signature status
 * and related command, acknowledgement with a comment (security role; the
 * API refuses one about yourself and says so), and new alerts arriving
 * live from the event stream.
 */
import { type Alert, ApiError, api, type Command } from '../api.js';
import type { Page } from '../context.js';
import { announce, badge, clear, errorBox, h, time } from '../dom.js';

const KINDS = ['unknown_principal', 'action_not_permitted', 'bad_signature', 'challenge_expired', 'nonce_reused', 'decryption_failed', 'replay', 'stale_time_step', 'malformed_record', 'foreign_producer', 'invalid_name'];

interface Filter {
  host: string;
  kind: string;
  principal: string;
  fromMs: number | null;
  toMs: number | null;
  acknowledged: '' | 'true' | 'false';
}

function matches(a: Alert, f: Filter): boolean {
  if (f.host && a.hostId !== f.host) return false;
  if (f.kind && a.kind !== f.kind) return false;
  if (f.principal && a.principal !== f.principal) return false;
  if (f.fromMs !== null && a.receivedAtMs < f.fromMs) return false;
  if (f.toMs !== null && a.receivedAtMs > f.toMs) return false;
  if (f.acknowledged && String(a.acknowledged) !== f.acknowledged) return false;
  return true;
}

function signatureBadge(s: Alert['signatureStatus']): HTMLElement {
  if (s === 'verified') return badge('signature verified', 'ok');
  if (s === 'bad') return badge('signature BAD: treat as forged', 'bad');
  return badge('signature unverified (no host key)', 'warn');
}

const field = (label: string, value: Node | string) => [h('dt', {}, label), h('dd', {}, value || '—')];

export const alertsPage: Page = (ctx, main) => {
  const filter: Filter = { host: '', kind: '', principal: '', fromMs: null, toMs: null, acknowledged: '' };
  const list = h('ol', { class: 'alerts', 'aria-label': 'Alerts, newest first', id: 'alert-list' });
  const status = h('p', { class: 'muted', id: 'alert-count' });
  const alerts = new Map<number, Alert>();
  const open = new Set<number>();
  /** Half-typed acknowledgement comments, kept across redraws (a new alert arriving redraws the list). */
  const drafts = new Map<number, string>();

  const input = (id: string, label: string, attrs: Record<string, string> = {}) => h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name: id, ...attrs }));
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter alerts', onsubmit: (e: Event) => { e.preventDefault(); readFilter(); void load(); } },
    input('f-host', 'Host', { placeholder: 'any' }),
    h('div', { class: 'field' }, h('label', { for: 'f-kind' }, 'Kind'), h('select', { id: 'f-kind', name: 'f-kind' }, h('option', { value: '' }, 'any'), KINDS.map((k) => h('option', { value: k }, k)))),
    input('f-principal', 'Principal', { placeholder: 'any' }),
    input('f-from', 'Received from', { type: 'datetime-local' }),
    input('f-to', 'Received until', { type: 'datetime-local' }),
    h('div', { class: 'field' }, h('label', { for: 'f-ack' }, 'Acknowledged'), h('select', { id: 'f-ack', name: 'f-ack' }, h('option', { value: '' }, 'any'), h('option', { value: 'false' }, 'not yet'), h('option', { value: 'true' }, 'acknowledged'))),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Apply filters')),
  );
  const val = (id: string) => (form.querySelector(`#${id}`) as HTMLInputElement).value.trim();
  function readFilter(): void {
    filter.host = val('f-host');
    filter.kind = val('f-kind');
    filter.principal = val('f-principal');
    filter.fromMs = val('f-from') ? new Date(val('f-from')).getTime() : null;
    filter.toMs = val('f-to') ? new Date(val('f-to')).getTime() + 59_999 : null;
    filter.acknowledged = val('f-ack') as Filter['acknowledged'];
  }

  clear(main, h('h1', {}, 'Alerts'), form, status, list);

  function renderAlert(a: Alert, fresh = false): HTMLElement {
    const detail = h('div', { class: 'detail' });
    const el = h(
      'li',
      { class: `alert ${a.acknowledged ? 'acked' : 'open'}${fresh ? ' new' : ''}${a.signatureStatus === 'bad' ? ' forged' : ''}`, 'data-alert-id': a.id },
      h(
        'details',
        { ...(open.has(a.id) ? { open: true } : {}), ontoggle: (e: Event) => { const d = e.currentTarget as HTMLDetailsElement; if (d.open) { open.add(a.id); fillDetail(a, detail); } else open.delete(a.id); } },
        h(
          'summary',
          {},
          h('span', { class: 'when' }, time(a.receivedAtMs)),
          h('strong', { class: 'kind' }, a.kind),
          h('span', {}, `${a.hostId}`),
          h('span', {}, a.principal ? `by ${a.principal}` : ''),
          signatureBadge(a.signatureStatus),
          a.acknowledged ? badge(`acknowledged by ${a.acknowledgedBy ?? '?'}`, 'muted') : badge('not acknowledged', 'warn'),
          fresh ? badge('new', 'info') : null,
        ),
        detail,
      ),
    );
    if (open.has(a.id)) fillDetail(a, detail);
    return el;
  }

  function fillDetail(a: Alert, detail: HTMLElement): void {
    const command = h('dd', { class: 'command' }, a.requestId ? 'loading…' : '—');
    const dl = h(
      'dl',
      { class: 'fields' },
      field('Alert', `#${a.id} (host's id ${a.alertId})`),
      field('Host', a.hostId),
      field('Kind', a.kind),
      field('Principal', a.principal),
      field('Action', a.action),
      field('Domain', a.domain),
      field('Reason', a.reason),
      field('Raised at (host clock)', time(a.timeMs) as Node),
      field('Received at', time(a.receivedAtMs) as Node),
      field('Host signature', signatureBadge(a.signatureStatus)),
      h('dt', {}, 'Related command'),
      command,
    );
    if (a.requestId) {
      api<Command>('GET', `/v1/commands/${encodeURIComponent(a.requestId)}`)
        .then((c) => clear(command, h('a', { href: `#/commands/${encodeURIComponent(c.id)}` }, c.id), ` — ${c.action} ${c.domain} on ${c.hostId} by ${c.principal}, `, badge(c.state, c.state === 'applied' ? 'ok' : c.state === 'denied' || c.state === 'failed' ? 'bad' : 'info')))
        .catch((err: unknown) => clear(command, `${a.requestId} (${err instanceof ApiError ? err.message : 'unavailable'})`));
    }
    const ack = h('div', { class: 'ack' });
    if (a.acknowledged) {
      clear(ack, h('p', { class: 'acked-by' }, 'Acknowledged by ', h('strong', {}, a.acknowledgedBy ?? '?'), ' at ', time(a.acknowledgedAtMs), ': ', h('q', {}, a.acknowledgedComment ?? '')));
    } else if (ctx.has('security')) {
      const id = `ack-${a.id}`;
      const msg = h('p', { class: 'error', role: 'alert', hidden: true });
      const text = h('textarea', { id, name: 'comment', required: true, rows: 2, maxlength: 2000, 'aria-describedby': `${id}-help`, oninput: () => drafts.set(a.id, text.value) });
      text.value = drafts.get(a.id) ?? '';
      clear(
        ack,
        h(
          'form',
          {
            class: 'ack-form',
            onsubmit: (e: Event) => {
              e.preventDefault();
              msg.hidden = true;
              api<Alert>('POST', `/v1/alerts/${a.id}/ack`, { comment: text.value })
                .then((acked) => {
                  drafts.delete(a.id);
                  upsert(acked, false);
                })
                .catch((err: unknown) => {
                  msg.hidden = false;
                  msg.textContent = err instanceof ApiError ? err.message : String(err);
                });
            },
          },
          h('label', { for: id }, 'Comment (why it is benign, or what was done)'),
          text,
          h('p', { class: 'help', id: `${id}-help` }, 'Your name and the time are recorded with it. Nobody acknowledges an alert about themselves.'),
          msg,
          h('button', { type: 'submit' }, 'Acknowledge'),
        ),
      );
    } else {
      clear(ack, h('p', { class: 'muted' }, 'Not acknowledged. Only the security role acknowledges alerts.'));
    }
    clear(detail, dl, ack);
  }

  function draw(freshIds: Set<number> = new Set()): void {
    const shown = [...alerts.values()].filter((a) => matches(a, filter)).sort((x, y) => y.id - x.id);
    // Keep keyboard focus where it was (a comment box, a summary) across the redraw.
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement : null;
    const focusId = focused?.id || null;
    const focusAlert = focused?.closest('li[data-alert-id]')?.getAttribute('data-alert-id') ?? null;
    clear(list, shown.map((a) => renderAlert(a, freshIds.has(a.id))));
    if (focusId) document.getElementById(focusId)?.focus();
    else if (focusAlert) (list.querySelector(`li[data-alert-id="${focusAlert}"] summary`) as HTMLElement | null)?.focus();
    status.textContent = shown.length === 0 ? 'No alerts match.' : `${shown.length} alert${shown.length === 1 ? '' : 's'}${shown.length >= 500 ? ' (the newest 500)' : ''}.`;
  }

  const fresh = new Set<number>();
  function upsert(a: Alert, isNew: boolean): void {
    const known = alerts.has(a.id);
    alerts.set(a.id, a);
    if (isNew && !known) {
      fresh.add(a.id);
      if (matches(a, filter)) announce(`New alert: ${a.kind} on ${a.hostId}${a.principal ? ` by ${a.principal}` : ''}`);
    }
    draw(fresh);
  }

  async function load(): Promise<void> {
    const q = new URLSearchParams({ limit: '500' });
    if (filter.host) q.set('host', filter.host);
    if (filter.kind) q.set('kind', filter.kind);
    if (filter.principal) q.set('principal', filter.principal);
    if (filter.fromMs !== null) q.set('since', String(filter.fromMs));
    if (filter.acknowledged) q.set('acknowledged', filter.acknowledged);
    try {
      const { alerts: got } = await api<{ alerts: Alert[] }>('GET', `/v1/alerts?${q}`);
      alerts.clear();
      for (const a of got) alerts.set(a.id, a);
      draw(fresh);
    } catch (err) {
      clear(list, errorBox(err instanceof ApiError ? err.message : String(err)));
    }
  }

  void load();
  const off = ctx.stream.on((e) => {
    if (e.event === 'alert') upsert(e.data as Alert, true);
    else if (e.event === 'hello') void load();
  });
  if (ctx.params[0]) open.add(Number(ctx.params[0]));
  return off;
};
