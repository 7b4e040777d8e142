/**
 * The thread that runs libvirt's event loop (virEventRegisterDefaultImpl +
 * virEventRunDefaultImpl). libvirt delivers domain lifecycle events, reboot
 * events, connection-close notices and keepalive through this loop; each is
 * posted to the main thread as plain data.
 *
 * The loop runs one iteration at a time (a 2 s libvirt timer bounds each),
 * and between iterations this thread reads its messages: register or drop the
 * callbacks of a connection.
 */
import { parentPort } from 'node:worker_threads';
import koffi from 'koffi';
import {
  CloseCallback,
  GenericDomainCallback,
  type Handle,
  LifecycleCallback,
  libvirt,
  TimeoutCallback,
  VIR_DOMAIN_EVENT_ID_LIFECYCLE,
  VIR_DOMAIN_EVENT_ID_REBOOT,
  VirError,
} from './libvirt-ffi.js';

export type EventRequest = { id: number; op: 'watch'; conn: Handle } | { id: number; op: 'unwatch'; conn: Handle; callbackIds: number[] };

export type EventMessage =
  | { type: 'ready'; timer: number }
  | { type: 'reply'; id: number; ok: boolean; value?: number[]; message?: string }
  | { type: 'domain'; conn: Handle; kind: 'lifecycle' | 'reboot'; name: string; uuid: string; event: number; detail: number; timeMs: number }
  | { type: 'closed'; conn: Handle; reason: number };

const lv = libvirt();
/**
 * Only a safety net: the main thread wakes the loop after posting a message (below). It was 200 ms,
 * and each of those 5 iterations a second (a koffi call, a callback, a turn of this thread's event
 * loop, and the garbage collection they add up to) cost the idle agent about 10 ms of CPU a second
 * (docs/benchmarks.md "link-cost").
 */
const TICK_MS = 2000;
const post = (m: EventMessage): void => parentPort?.postMessage(m);

function domainFacts(dom: Handle): { name: string; uuid: string } {
  const buf = Buffer.alloc(37);
  const name = (lv.virDomainGetName(dom) as string | null) ?? '';
  lv.virDomainGetUUIDString(dom, buf);
  return { name, uuid: buf.toString('latin1', 0, 36) };
}

const onLifecycle = koffi.register((conn: Handle, dom: Handle, event: number, detail: number) => {
  post({ type: 'domain', conn, kind: 'lifecycle', ...domainFacts(dom), event, detail, timeMs: Date.now() });
  return 0;
}, koffi.pointer(LifecycleCallback));
const onReboot = koffi.register((conn: Handle, dom: Handle) => {
  post({ type: 'domain', conn, kind: 'reboot', ...domainFacts(dom), event: -1, detail: 0, timeMs: Date.now() });
}, koffi.pointer(GenericDomainCallback));
const onClose = koffi.register((conn: Handle, reason: number) => post({ type: 'closed', conn, reason }), koffi.pointer(CloseCallback));
// Back to its slow period after the main thread set it to fire at once (to have a message read).
const onTick = koffi.register((timer: number) => lv.virEventUpdateTimeout(timer, TICK_MS), koffi.pointer(TimeoutCallback));

function lastError(what: string): string {
  const ptr = lv.virGetLastError();
  const err = ptr ? (koffi.decode(ptr, VirError) as { message: string | null }) : undefined;
  return err?.message ?? `${what} failed`;
}

function watch(conn: Handle): number[] {
  lv.virResetLastError();
  const lifecycle = lv.virConnectDomainEventRegisterLifecycle(conn, 0, VIR_DOMAIN_EVENT_ID_LIFECYCLE, onLifecycle, null, null) as number;
  if (lifecycle < 0) throw new Error(lastError('virConnectDomainEventRegisterAny'));
  const reboot = lv.virConnectDomainEventRegisterGeneric(conn, 0, VIR_DOMAIN_EVENT_ID_REBOOT, onReboot, null, null) as number;
  // Drivers without a close callback (test:///) refuse it; their connections cannot drop.
  lv.virConnectRegisterCloseCallback(conn, onClose, null, null);
  lv.virResetLastError();
  return reboot >= 0 ? [lifecycle, reboot] : [lifecycle];
}

function unwatch(conn: Handle, callbackIds: number[]): void {
  for (const id of callbackIds) lv.virConnectDomainEventDeregisterAny(conn, id);
  lv.virConnectUnregisterCloseCallback(conn, onClose);
  lv.virResetLastError();
}

parentPort?.on('message', (req: EventRequest) => {
  try {
    if (req.op === 'watch') post({ type: 'reply', id: req.id, ok: true, value: watch(req.conn) });
    else {
      unwatch(req.conn, req.callbackIds);
      post({ type: 'reply', id: req.id, ok: true });
    }
  } catch (err) {
    post({ type: 'reply', id: req.id, ok: false, message: (err as Error).message });
  }
});

if (lv.virEventRegisterDefaultImpl() < 0) throw new Error(lastError('virEventRegisterDefaultImpl'));
// Bounds each iteration, so messages above are read at least every TICK_MS; the main thread
// sets the timer to 0 right after posting one (virEventUpdateTimeout wakes the loop).
const timer = lv.virEventAddTimeout(TICK_MS, onTick, null, null) as number;
post({ type: 'ready', timer });
const spin = (): void => {
  lv.virEventRunDefaultImpl();
  setImmediate(spin);
};
setImmediate(spin);
