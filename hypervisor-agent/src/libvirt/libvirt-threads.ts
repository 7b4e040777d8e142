/**
 * The main thread's side of the libvirt threads: the event loop thread
 * (libvirt-event-worker.ts) and a small pool of call threads
 * (libvirt-worker.ts). Blocking libvirt calls never run on the main thread,
 * so the link keeps reading, acknowledging and reporting while libvirtd takes
 * its time; a call that waits on libvirtd holds one call thread, and others
 * go on in the rest (up to `maxThreads`, started as needed).
 *
 * One per process (the event implementation is process-wide in libvirt, and
 * must be registered before any connection is opened: `call` waits for it).
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { CallRequest } from './libvirt-calls.js';
import type { EventMessage, EventRequest } from './libvirt-event-worker.js';
import { type Handle, libvirt } from './libvirt-ffi.js';
import { LibvirtError } from './libvirt-errors.js';
import type { CallMessage, CallReply } from './libvirt-worker.js';

/** Built code runs the workers beside it; tests running the TypeScript sources use the built copies. */
function workerUrl(name: string): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL(`../../dist/libvirt/${name}.js`, here) : new URL(`./${name}.js`, here);
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface CallThread {
  worker: Worker;
  pending: Map<number, Pending>;
}

export type DomainEvent = Extract<EventMessage, { type: 'domain' }>;

export class LibvirtThreads extends EventEmitter<{ domain: [DomainEvent]; closed: [{ conn: Handle; reason: number }] }> {
  readonly maxThreads: number;
  readonly #idle: CallThread[] = [];
  readonly #all = new Set<CallThread>();
  readonly #queue: { msg: CallMessage; pending: Pending }[] = [];
  #nextId = 1;
  #events: Worker | undefined;
  #timer: number | undefined;
  #eventsReady: Promise<void> | undefined;
  readonly #eventPending = new Map<number, { resolve: (v: number[]) => void; reject: (e: Error) => void }>();

  constructor(maxThreads = 4) {
    super();
    this.maxThreads = maxThreads;
  }

  /** Runs `req` on a call thread; rejects with LibvirtError (libvirt's code) when libvirt fails. */
  async call<T>(req: CallRequest): Promise<T> {
    await this.#startEvents();
    return new Promise<T>((resolve, reject) => {
      const msg: CallMessage = { id: this.#nextId++, req };
      this.#queue.push({ msg, pending: { resolve: resolve as (v: unknown) => void, reject } });
      this.#pump();
    });
  }

  /** Registers lifecycle, reboot and close callbacks on `conn`; returns the callback ids for `unwatch`. */
  async watch(conn: Handle): Promise<number[]> {
    return this.#eventCall({ op: 'watch', conn });
  }

  async unwatch(conn: Handle, callbackIds: number[]): Promise<void> {
    await this.#eventCall({ op: 'unwatch', conn, callbackIds });
  }

  #eventCall(req: { op: 'watch'; conn: Handle } | { op: 'unwatch'; conn: Handle; callbackIds: number[] }): Promise<number[]> {
    return this.#startEvents().then(
      () =>
        new Promise<number[]>((resolve, reject) => {
          const id = this.#nextId++;
          this.#eventPending.set(id, { resolve, reject });
          this.#events?.ref(); // a registration in flight keeps the process alive, as a call does
          this.#events?.postMessage({ ...req, id } as EventRequest);
          // Wake the event loop so the thread reads the message now, not at its next tick.
          if (this.#timer !== undefined) libvirt().virEventUpdateTimeout(this.#timer, 0);
        }),
    );
  }

  #startEvents(): Promise<void> {
    this.#eventsReady ??= new Promise<void>((resolve, reject) => {
      const worker = new Worker(workerUrl('libvirt-event-worker'));
      this.#events = worker;
      worker.on('message', (m: EventMessage) => {
        if (m.type === 'ready') {
          this.#timer = m.timer;
          // Idle, the event thread does not keep the process alive (a CLI or benchmark that is done
          // exits). Unref'd here, after the listeners: adding a 'message' listener refs it again.
          if (this.#eventPending.size === 0) worker.unref();
          resolve();
        }
        else if (m.type === 'domain') this.emit('domain', m);
        else if (m.type === 'closed') this.emit('closed', { conn: m.conn, reason: m.reason });
        else if (m.type === 'reply') {
          const p = this.#eventPending.get(m.id);
          this.#eventPending.delete(m.id);
          if (this.#eventPending.size === 0) worker.unref();
          if (m.ok) p?.resolve(m.value ?? []);
          else p?.reject(new Error(m.message ?? 'libvirt event registration failed'));
        }
      });
      worker.on('error', (err) => {
        reject(err);
        for (const p of this.#eventPending.values()) p.reject(err);
        this.#eventPending.clear();
      });
    });
    return this.#eventsReady;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let thread = this.#idle.pop();
      if (!thread && this.#all.size < this.maxThreads) thread = this.#spawn();
      if (!thread) return;
      const { msg, pending } = this.#queue.shift()!;
      thread.pending.set(msg.id, pending);
      thread.worker.ref(); // a call in flight keeps the process alive; an idle thread does not
      thread.worker.postMessage(msg);
    }
  }

  #spawn(): CallThread {
    const worker = new Worker(workerUrl('libvirt-worker'));
    const thread: CallThread = { worker, pending: new Map() };
    this.#all.add(thread);
    worker.on('message', (reply: CallReply) => {
      const p = thread.pending.get(reply.id);
      thread.pending.delete(reply.id);
      worker.unref();
      this.#idle.push(thread);
      if (reply.ok) p?.resolve(reply.value);
      else p?.reject(new LibvirtError(reply.error));
      this.#pump();
    });
    worker.on('error', (err) => {
      // A thread that died takes its call with it; the next call starts another.
      this.#all.delete(thread);
      const i = this.#idle.indexOf(thread);
      if (i >= 0) this.#idle.splice(i, 1);
      for (const p of thread.pending.values()) p.reject(err);
      thread.pending.clear();
      this.#pump();
    });
    return thread;
  }
}

let shared: LibvirtThreads | undefined;

/** The process's libvirt threads. */
export function libvirtThreads(): LibvirtThreads {
  shared ??= new LibvirtThreads();
  return shared;
}
