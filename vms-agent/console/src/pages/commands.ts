/**
 * Commands, newest first, with state, and per command its challenge and
 * approval trail; a command awaiting an operator-held approval shows the
 * exact `vms-agent approve` line to run where the key is. Operators see the
 * commands they issued; approvers, security and viewers see all.
 */
import { ApiError, api, type Command, type CommandSummary } from '../api.js';
import type { Page } from '../context.js';
import { badge, clear, errorBox, h, time } from '../dom.js';

const STATES = ['queued', 'sent', 'challenged', 'awaiting_approval', 'applied', 'denied', 'failed', 'expired'];

function stateBadge(state: string): HTMLElement {
  return badge(state.replace('_', ' '), state === 'applied' ? 'ok' : state === 'awaiting_approval' ? 'warn' : state === 'denied' || state === 'failed' || state === 'expired' ? 'bad' : 'info');
}

/** The line to run on the approver's machine (docs/vms-agent.md "awaiting_approval"). */
export function approveLine(id: string): string {
  return `vms-agent approve ${id} --key FILE --url ${location.origin}`;
}

export const commandsPage: Page = (ctx, main) => {
  const list = h('ol', { class: 'commands', id: 'command-list', 'aria-label': 'Commands, newest first' });
  const count = h('p', { class: 'muted' });
  const open = new Set<string>(ctx.params[0] ? [ctx.params[0]] : []);
  const commands = new Map<string, CommandSummary>();
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter commands', onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    h('div', { class: 'field' }, h('label', { for: 'c-host' }, 'Host'), h('input', { id: 'c-host', placeholder: 'any' })),
    h('div', { class: 'field' }, h('label', { for: 'c-state' }, 'State'), h('select', { id: 'c-state' }, h('option', { value: '' }, 'any'), STATES.map((s) => h('option', { value: s }, s.replace('_', ' '))))),
    h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Apply filters')),
  );
  const note = ctx.has('viewer') || ctx.has('approver') || ctx.has('security') ? null : h('p', { class: 'help' }, `As an operator, ${ctx.me.principal} sees the commands it issued.`);
  clear(main, h('h1', {}, 'Commands'), form, note, count, list);
  const val = (id: string) => (form.querySelector(`#${id}`) as HTMLInputElement).value.trim();

  async function fillDetail(id: string, detail: HTMLElement): Promise<void> {
    try {
      const c = await api<Command>('GET', `/v1/commands/${encodeURIComponent(id)}`);
      const ch = c.challenge;
      const approve =
        c.state === 'awaiting_approval'
          ? h(
              'div',
              { class: 'approve' },
              h('p', {}, `Awaiting approval: ${c.approvals.length} of ${ch?.approvalsRequired ?? 1} signature${(ch?.approvalsRequired ?? 1) > 1 ? 's' : ''}${ch?.approvers.length ? ` from ${ch.approvers.join(', ')}` : ` from ${c.principal}`}; the challenge expires `, time(ch?.managerExpiresAtMs ?? ch?.expiresAtMs), '. Run, where the approver’s key file is:'),
              h('pre', { class: 'approve-line', tabindex: 0, 'aria-label': 'approve command line' }, h('code', {}, approveLine(c.id))),
              h('p', { class: 'help' }, 'A custodial approver (vms-agent holds the key) runs the same line without --key.'),
            )
          : null;
      clear(
        detail,
        h(
          'dl',
          { class: 'fields' },
          h('dt', {}, 'Command'),
          h('dd', {}, h('code', {}, c.id)),
          h('dt', {}, 'Requested'),
          h('dd', {}, `${c.action} ${c.domain} on ${c.hostId} by ${c.principal}`, Object.keys(c.params).length ? ` (${Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''),
          h('dt', {}, 'Challenge'),
          h('dd', {}, ch ? [`${ch.approvalsRequired} approval${ch.approvalsRequired > 1 ? 's' : ''} required`, ch.approvers.length ? ` from ${ch.approvers.join(', ')}` : '', '; expires ', time(ch.managerExpiresAtMs ?? ch.expiresAtMs), c.responseSent ? '; response sent' : ''] : 'none (yet)'),
          h('dt', {}, 'Approvals'),
          h('dd', {}, c.approvals.length ? h('ul', {}, c.approvals.map((a) => h('li', {}, `${a.principal} (key ${a.keyId}, ${a.custodial ? 'custodial' : 'operator-held'}) at `, time(a.atMs)))) : 'none'),
          h('dt', {}, 'Result'),
          h('dd', {}, c.result ? `${c.result.outcome}: ${c.result.previousState} → ${c.result.newState}${c.result.errorMessage ? ` (${c.result.errorCode}: ${c.result.errorMessage})` : ''}` : '—'),
        ),
        approve,
        h(
          'table',
          { class: 'trail', 'aria-label': `Trail of command ${c.id}` },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'What'))),
          h('tbody', {}, c.events.map((e) => h('tr', {}, h('td', {}, time(e.atMs)), h('td', {}, stateBadge(e.state)), h('td', {}, e.detail)))),
        ),
      );
    } catch (err) {
      clear(detail, errorBox(err instanceof ApiError ? err.message : String(err)));
    }
  }

  function draw(): void {
    const host = val('c-host');
    const state = val('c-state');
    const shown = [...commands.values()].filter((c) => (!host || c.hostId === host) && (!state || c.state === state)).sort((a, b) => b.createdAtMs - a.createdAtMs);
    count.textContent = `${shown.length} command${shown.length === 1 ? '' : 's'}.`;
    clear(
      list,
      shown.map((c) => {
        const detail = h('div', { class: 'detail' });
        if (open.has(c.id)) void fillDetail(c.id, detail);
        return h(
          'li',
          { 'data-command-id': c.id, class: `command ${c.state}` },
          h(
            'details',
            { ...(open.has(c.id) ? { open: true } : {}), ontoggle: (e: Event) => { const d = e.currentTarget as HTMLDetailsElement; if (d.open) { open.add(c.id); void fillDetail(c.id, detail); } else open.delete(c.id); } },
            h('summary', {}, h('span', { class: 'when' }, time(c.createdAtMs)), h('strong', {}, `${c.action} ${c.domain}`), h('span', {}, `on ${c.hostId}`), h('span', {}, `by ${c.principal}`), stateBadge(c.state)),
            detail,
          ),
        );
      }),
    );
  }

  async function load(): Promise<void> {
    const q = new URLSearchParams({ limit: '1000' });
    const host = val('c-host');
    if (host) q.set('host', host);
    try {
      const { commands: got } = await api<{ commands: CommandSummary[] }>('GET', `/v1/commands?${q}`);
      commands.clear();
      for (const c of got) commands.set(c.id, c);
      draw();
    } catch (err) {
      clear(list, errorBox(err instanceof ApiError ? err.message : String(err)));
    }
  }

  void load();
  const off = ctx.stream.on((e) => {
    if (e.event === 'command') {
      const c = e.data as CommandSummary;
      commands.set(c.id, c);
      draw();
    } else if (e.event === 'hello') void load();
  });
  return off;
};
