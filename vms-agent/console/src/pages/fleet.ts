/**
 * Fleet: each host's link health (state, last record, BMC queue depths,
 * retransmissions from /metrics, the clock offset once the link reports
 * one), the age of its last status report, its domains and their states,
 * and actions on a domain (operator role), with a confirmation for those
 * that interrupt a running guest.
 */
import { ApiError, api, type CommandSummary, type Domain, type Host, metricsText } from '../api.js';
import type { Page } from '../context.js';
import { age, announce, badge, clear, errorBox, h, time } from '../dom.js';

const ACTIONS = ['start', 'shutdown', 'reboot', 'suspend', 'resume', 'reset', 'destroy'] as const;
/** What a confirmation must spell out: the guest stops, or is cut off without a clean shutdown. */
const DESTRUCTIVE: Record<string, string> = {
  shutdown: 'asks the guest to shut down; its services stop',
  reboot: 'restarts the guest; its services are interrupted',
  suspend: 'pauses the guest; it stops answering until resumed',
  reset: 'resets the guest like a power button: no clean shutdown, unsaved data is lost',
  destroy: 'cuts the guest off like pulling the plug: no clean shutdown, unsaved data is lost',
};

const FINAL = new Set(['applied', 'denied', 'failed', 'expired']);

function linkTone(state: string): 'ok' | 'warn' | 'bad' | 'muted' {
  // backoff, auth_failed, clock_skew (and any state a newer vms-agent adds) are trouble.
  return state === 'up' ? 'ok' : state === 'connecting' ? 'warn' : state === 'stopped' ? 'muted' : 'bad';
}

function domainTone(state: string): 'ok' | 'warn' | 'muted' {
  return state === 'running' ? 'ok' : state === 'paused' || state === 'pmsuspended' ? 'warn' : 'muted';
}

/** vms_agent_retransmissions_total{host="…"} from the Prometheus text. */
function retransmissions(metrics: string, host: string): number | null {
  const re = new RegExp(`^vms_agent_retransmissions_total\\{host="${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\} (\\d+(?:\\.\\d+)?)$`, 'm');
  const m = re.exec(metrics);
  return m ? Number(m[1]) : metrics ? 0 : null;
}

export const fleetPage: Page = (ctx, main) => {
  const hostsEl = h('div', { class: 'hosts', id: 'hosts' });
  const dialog = h('dialog', { id: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' });
  const commandsEl = h('ul', { class: 'issued', id: 'issued', 'aria-label': 'Commands issued from this page' });
  const issued = new Map<string, CommandSummary>();
  /** The action picked in each domain's form, kept across the periodic redraws so a choice is never reset under the user's hands. */
  const chosen = new Map<string, string>();
  clear(main, h('h1', {}, 'Fleet'), hostsEl, h('section', { 'aria-labelledby': 'issued-h' }, h('h2', { id: 'issued-h' }, 'Issued here'), commandsEl), dialog);

  function drawIssued(): void {
    const items = [...issued.values()].sort((a, b) => b.createdAtMs - a.createdAtMs);
    clear(
      commandsEl,
      items.length === 0 ? h('li', { class: 'muted' }, 'Nothing yet.') : null,
      items.map((c) =>
        h('li', { 'data-command-id': c.id }, h('a', { href: `#/commands/${encodeURIComponent(c.id)}` }, `${c.action} ${c.domain} on ${c.hostId}`), ' ', badge(c.state, c.state === 'applied' ? 'ok' : FINAL.has(c.state) ? 'bad' : 'info')),
      ),
    );
  }

  function confirm(action: string, domain: string, host: string): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        dialog.close();
        resolve(ok);
      };
      clear(
        dialog,
        h('h2', { id: 'confirm-title' }, `${action} ${domain} on ${host}?`),
        h('p', { id: 'confirm-text' }, `${action} ${DESTRUCTIVE[action] ?? ''}.`),
        h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'danger', onclick: () => done(true) }, `Yes, ${action} ${domain}`), h('button', { type: 'button', onclick: () => done(false) }, 'Cancel')),
      );
      dialog.addEventListener('cancel', () => resolve(false), { once: true });
      dialog.showModal();
      (dialog.querySelector('button:last-child') as HTMLButtonElement).focus();
    });
  }

  async function act(host: string, domain: string, action: string, msg: HTMLElement): Promise<void> {
    if (DESTRUCTIVE[action] && !(await confirm(action, domain, host))) return;
    msg.hidden = true;
    try {
      const c = await api<CommandSummary>('POST', `/v1/hosts/${encodeURIComponent(host)}/domains/${encodeURIComponent(domain)}/actions`, { action });
      issued.set(c.id, c);
      drawIssued();
      announce(`${action} ${domain} queued as command ${c.id}`);
    } catch (err) {
      msg.hidden = false;
      msg.textContent = err instanceof ApiError ? err.message : String(err);
    }
  }

  function domainTable(host: Host, domains: Domain[]): HTMLElement {
    return h(
      'table',
      { class: 'domains', 'aria-label': `Domains on ${host.id}` },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Domain'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'vCPUs'), h('th', { scope: 'col' }, 'Memory'), ctx.has('operator') ? h('th', { scope: 'col' }, 'Action') : null)),
      h(
        'tbody',
        {},
        domains.map((d) => {
          const id = `act-${host.id}-${d.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
          const msg = h('span', { class: 'error', role: 'alert', hidden: true });
          const key = `${host.id}\u0000${d.name}`;
          const select = h('select', { id, name: 'action', onchange: () => chosen.set(key, select.value) }, ACTIONS.map((a) => h('option', { value: a }, a)));
          select.value = chosen.get(key) ?? ACTIONS[0];
          return h(
            'tr',
            { 'data-domain': d.name },
            h('th', { scope: 'row' }, d.name),
            h('td', { class: 'state' }, badge(d.state, domainTone(d.state))),
            h('td', {}, d.vcpus),
            h('td', {}, `${Math.round(d.memoryKib / 1024)} MiB`),
            ctx.has('operator')
              ? h(
                  'td',
                  {},
                  h(
                    'form',
                    { class: 'inline', onsubmit: (e: Event) => { e.preventDefault(); void act(host.id, d.name, select.value, msg); } },
                    h('label', { for: id, class: 'visually-hidden' }, `Action on ${d.name}`),
                    select,
                    h('button', { type: 'submit' }, 'Run'),
                    msg,
                  ),
                )
              : null,
          );
        }),
      ),
    );
  }

  async function load(): Promise<void> {
    try {
      const [{ hosts }, metrics] = await Promise.all([api<{ hosts: Host[] }>('GET', '/v1/hosts'), metricsText().catch(() => '')]);
      const now = Date.now();
      const cards = await Promise.all(
        hosts.map(async (host) => {
          const q = host.link.queues;
          const rtx = retransmissions(metrics, host.id);
          const figures = h(
            'dl',
            { class: 'figures' },
            h('dt', {}, 'Link'),
            h('dd', {}, badge(host.link.state, linkTone(host.link.state)), host.link.sinceMs ? [' since ', time(host.link.sinceMs)] : '', host.link.lastError ? h('span', { class: 'error-text' }, ` — ${host.link.lastError}`) : ''),
            h('dt', {}, 'Last record from host'),
            h('dd', {}, host.link.lastReceiveAtMs ? `${age(now - host.link.lastReceiveAtMs)} ago` : '—'),
            h('dt', {}, 'Unacknowledged to host'),
            h('dd', {}, host.link.unacked),
            h('dt', {}, 'BMC queue depths'),
            h('dd', {}, q ? `to host ${q.toHost.depth} (${q.toHost.usedBytes}/${q.toHost.capacityBytes} B), to manager ${q.toManager.depth} (${q.toManager.usedBytes}/${q.toManager.capacityBytes} B)` : 'not read yet'),
            h('dt', {}, 'Retransmissions'),
            h('dd', {}, rtx === null ? '—' : rtx),
            host.link.clockOffsetMs !== undefined && host.link.clockOffsetMs !== null ? [h('dt', {}, 'Clock offset'), h('dd', {}, `${host.link.clockOffsetMs} ms`)] : null,
            h('dt', {}, 'Last status report'),
            h('dd', { class: 'report-age' }, host.status ? `${age(host.status.ageMs)} ago (report ${host.status.reportSeq})` : 'none yet'),
          );
          let domains: HTMLElement;
          try {
            const r = await api<{ domains: Domain[] }>('GET', `/v1/hosts/${encodeURIComponent(host.id)}/domains`);
            domains = domainTable(host, r.domains);
          } catch (err) {
            domains = h('p', { class: 'muted' }, err instanceof ApiError ? err.message : String(err));
          }
          return h('section', { class: 'card host', 'data-host': host.id, 'aria-labelledby': `host-${host.id}` }, h('h2', { id: `host-${host.id}` }, host.id, ' ', h('span', { class: 'muted small' }, `BMC ${host.bmc.address}:${host.bmc.port}`)), figures, domains);
        }),
      );
      // Keep an open select from being redrawn under the user's hands (the chosen action survives redraws anyway). Not a focused
      // button: after a confirmation the dialog gives focus back to Run, and the page would then never redraw.
      if (hostsEl.contains(document.activeElement) && document.activeElement?.tagName === 'SELECT') return;
      clear(hostsEl, cards.length ? cards : h('p', {}, 'No hosts. Add one with: vms-agent hosts add'));
    } catch (err) {
      clear(hostsEl, errorBox(err instanceof ApiError ? err.message : String(err)));
    }
  }

  drawIssued();
  void load();
  const timer = setInterval(() => void load(), 3000);
  let pending: ReturnType<typeof setTimeout> | undefined;
  const off = ctx.stream.on((e) => {
    if (e.event === 'command') {
      const c = e.data as CommandSummary;
      if (issued.has(c.id)) {
        issued.set(c.id, c);
        drawIssued();
        if (FINAL.has(c.state)) announce(`${c.action} ${c.domain}: ${c.state}`);
      }
    }
    if (e.event === 'link' || e.event === 'command') {
      clearTimeout(pending);
      pending = setTimeout(() => void load(), 200);
    }
  });
  return () => {
    clearInterval(timer);
    clearTimeout(pending);
    off();
  };
};
