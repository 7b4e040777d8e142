/**
 * GET /v1/events: server-sent events (text/event-stream) for the console.
 *
 *   event: alert     data: the alert (as GET /v1/alerts), when stored or acknowledged   (security, viewer)
 *   event: command   data: the command summary, when queued or its state moves          (operators: their own)
 *   event: link      data: {hostId, link}, when a host's link health changes            (every role)
 *   event: hello     data: {principal, roles}, first, so a client knows the stream is live
 *
 * The token goes in the Authorization header like everywhere else: the
 * console reads the stream with fetch(), not EventSource (which cannot send
 * headers), so no token ever sits in a URL. A comment line every 15 s keeps
 * proxies from closing an idle stream. Events are not replayed: a client
 * that reconnects reloads the lists, then follows the stream again.
 */
import type { FastifyRequest } from 'fastify';
import { readsAllCommands } from '../access.js';
import type { ApiDeps, ApiInstance } from '../app.js';
import { hostView } from '../views.js';
import type { BusEvent, EventBus } from './events-bus.js';
import { authErrors, forbidden } from './errors.js';

export interface EventDeps {
  /** Present when `serve` publishes changes (observeStore); without it the stream only says hello and keeps alive. */
  events?: EventBus;
}

const HEARTBEAT_MS = 15_000;
const LINK_POLL_MS = 1_000;

function visible(e: BusEvent, req: FastifyRequest): boolean {
  if (e.type === 'alert') return req.roles.includes('security') || req.roles.includes('viewer');
  if (e.type === 'command') return readsAllCommands(req) || e.command.principal === req.principal;
  return true;
}

/** Publishes a `link` event for each host whose link health changed, while anyone listens. */
function watchLinks(deps: ApiDeps & EventDeps, bus: EventBus): () => void {
  const last = new Map<string, string>();
  const timer = setInterval(() => {
    if (bus.subscribers === 0) return;
    void (async () => {
      const now = deps.clock();
      for (const h of await deps.store.listHosts()) {
        const view = hostView(h, await deps.store.getStatus(h.id), deps.linkHealth?.(h.id), now);
        // ageMs changes every tick: compare on what the link says, not on the age.
        const key = JSON.stringify({ link: view.link, report: view.status?.reportSeq ?? null });
        if (last.get(h.id) !== key) {
          last.set(h.id, key);
          bus.publish({ type: 'link', hostId: h.id, link: { ...view.link, status: view.status } });
        }
      }
    })().catch(() => undefined);
  }, LINK_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function registerEventRoutes(app: ApiInstance, deps: ApiDeps & EventDeps): void {
  const bus = deps.events;
  // Open streams end when the app closes (serve stopping); otherwise closing would wait for them.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  if (bus) {
    const stop = watchLinks(deps, bus);
    app.addHook('onClose', async () => stop());
  }
  app.get(
    '/v1/events',
    {
      config: { roles: ['operator', 'approver', 'security', 'viewer'] },
      schema: {
        summary: 'Server-sent events: alert, command, link (any role; each sees what it may read). Send the token in the Authorization header (use fetch streaming, not EventSource).',
        tags: ['events'],
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' }, ...authErrors, ...forbidden },
      },
    },
    async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (event: string, data: unknown, id?: number) => {
        res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      send('hello', { principal: req.principal, roles: req.roles });
      const unsubscribe = bus?.subscribe((e) => {
        if (!visible(e, req)) return;
        if (e.type === 'alert') send('alert', e.alert, e.seq);
        else if (e.type === 'command') send('command', e.command, e.seq);
        else send('link', { hostId: e.hostId, link: e.link }, e.seq);
      });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      const close = () => {
        clearInterval(heartbeat);
        unsubscribe?.();
        open.delete(end);
      };
      const end = () => {
        close();
        res.end();
      };
      open.add(end);
      req.raw.on('close', close);
      res.on('close', close);
    },
  );
}
