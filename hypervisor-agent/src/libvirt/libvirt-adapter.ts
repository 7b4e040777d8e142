/**
 * The agent's one long-lived libvirt connection and the VM actions it
 * applies, on libvirt's C API through koffi (libvirt-ffi.ts). Every blocking
 * call runs on a libvirt call thread (libvirt-threads.ts): the main thread, and
 * with it the link, never waits for libvirtd.
 *
 * Every action answers with an ActionOutcome, never an exception: an unknown
 * domain or an action invalid in the current state comes back FAILED with
 * libvirt's own error code (virGetLastError on the thread that made the call)
 * and message. A connection failure (or libvirt's close callback) drops the
 * connection; the next call reconnects (state-changing calls are not retried
 * blindly: whether they took effect is unknown, so they report FAILED).
 *
 * reboot and reset are libvirt's virDomainReboot / virDomainReset: in place,
 * same domain id, on persistent and transient domains alike. State changes
 * made behind the agent's back arrive as libvirt lifecycle events
 * (`onDomainEvent`), delivered by libvirt's event loop on its own thread.
 */
import { Action, DomainState, Outcome, StopMethod, actionName, type DomainInfo } from '@backchannel/proto';
import type { ActionParams } from './action-params.js';
import type { AppliedRecord, DomainRecord, DomainVerb } from './libvirt-calls.js';
import { classifyLibvirtError, isConnectionFailure, type LibvirtFailure, VIR_ERR_NO_DOMAIN, VIR_ERR_OPERATION_INVALID, VIR_ERR_OPERATION_TIMEOUT, LibvirtError } from './libvirt-errors.js';
import type { Handle } from './libvirt-ffi.js';
import { type DomainEvent, type LibvirtThreads, libvirtThreads } from './libvirt-threads.js';

export interface ActionOutcome {
  outcome: Outcome;
  previousState: DomainState;
  newState: DomainState;
  errorCode: string;
  errorMessage: string;
  domains?: DomainInfo[];
  domainInfo?: DomainInfo;
  /** How a shutdown ended. */
  stopMethod?: StopMethod;
  /** What happened, in words, when the outcome alone does not say it. */
  detail?: string;
  /** The domain's libvirt id right after the action (-1: not running), when it was looked at; its state is `newState`. */
  domainIdAfter?: number;
}

/** A domain as libvirt names it: what the policy decides on and what an action is applied to. */
export interface DomainTarget {
  name: string;
  uuid: string;
}

export type Resolution = { kind: 'found'; target: DomainTarget } | { kind: 'missing' | 'error'; failure: LibvirtFailure };

/** A state change libvirt reported for one of this connection's domains. */
export interface DomainChange {
  name: string;
  uuid: string;
  /** 'lifecycle' (virDomainEventType in `event`, its detail in `detail`) or 'reboot'. */
  kind: 'lifecycle' | 'reboot';
  event: number;
  detail: number;
  /** When libvirt's event loop delivered it (Unix ms). */
  timeMs: number;
}

export interface LibvirtAdapterOptions {
  uri: string;
  /** Default for how long a graceful shutdown may take (shutdown's `timeout_s` overrides it). */
  shutdownTimeoutMs: number;
  /** How often to look at the state while waiting for a shutdown. */
  shutdownPollMs?: number;
  /** How long a read-only call may wait for libvirtd (default 10 s). */
  readTimeoutMs?: number;
  /** Subscribe to libvirt lifecycle events (default true). */
  events?: boolean;
  threads?: LibvirtThreads;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const VERBS: Partial<Record<Action, DomainVerb>> = {
  [Action.ACTION_START]: 'create',
  [Action.ACTION_DESTROY]: 'destroy',
  [Action.ACTION_SUSPEND]: 'suspend',
  [Action.ACTION_RESUME]: 'resume',
  [Action.ACTION_REBOOT]: 'reboot',
  [Action.ACTION_RESET]: 'reset',
};

interface Connection {
  conn: Handle;
  callbackIds: number[];
}

export class LibvirtAdapter {
  readonly uri: string;
  readonly #options: LibvirtAdapterOptions;
  readonly #threads: LibvirtThreads;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #listeners = new Set<(change: DomainChange) => void>();
  #connection: Connection | undefined;
  #connecting: Promise<Connection> | undefined;
  #reconnects = 0;
  #closed = false;
  readonly #onDomain = (e: DomainEvent): void => {
    if (e.conn !== this.#connection?.conn) return;
    const change: DomainChange = { name: e.name, uuid: e.uuid, kind: e.kind, event: e.event, detail: e.detail, timeMs: e.timeMs };
    for (const listener of this.#listeners) listener(change);
  };
  readonly #onClosed = ({ conn }: { conn: Handle }): void => {
    if (conn !== this.#connection?.conn) return;
    // libvirtd went away (EOF or keepalive): reconnect at once so events flow again.
    this.#drop();
    if (!this.#closed) void this.connect().catch(() => undefined);
  };

  constructor(options: LibvirtAdapterOptions) {
    this.uri = options.uri;
    this.#options = options;
    this.#threads = options.threads ?? libvirtThreads();
    this.#sleep = options.sleep ?? realSleep;
    this.#now = options.now ?? Date.now;
  }

  /** Driver name for status reports ("test", "qemu"), from the URI scheme. */
  get driver(): string {
    return this.uri.split(':')[0]?.split('+')[0] ?? '';
  }

  get reconnects(): number {
    return this.#reconnects;
  }

  /** Calls `listener` for every lifecycle or reboot event of this connection's domains; returns an unsubscribe function. */
  onDomainEvent(listener: (change: DomainChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async connect(): Promise<void> {
    this.#closed = false;
    await this.#open();
  }

  async #open(): Promise<Connection> {
    if (this.#connection) return this.#connection;
    this.#connecting ??= (async () => {
      try {
        const conn = await this.#threads.call<Handle>({ op: 'open', uri: this.uri });
        let callbackIds: number[] = [];
        if (this.#options.events !== false) {
          if (!this.#subscribed) {
            this.#threads.on('domain', this.#onDomain);
            this.#threads.on('closed', this.#onClosed);
            this.#subscribed = true;
          }
          callbackIds = await this.#threads.watch(conn).catch(() => []);
        }
        const connection = { conn, callbackIds };
        this.#connection = connection;
        return connection;
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  #subscribed = false;

  /** Forgets the connection (after it failed); its handle is closed in the background. */
  #drop(): void {
    const c = this.#connection;
    this.#connection = undefined;
    if (!c) return;
    this.#reconnects += 1;
    void this.#release(c);
  }

  async #release(c: Connection): Promise<void> {
    if (c.callbackIds.length) await this.#threads.unwatch(c.conn, c.callbackIds).catch(() => undefined);
    await this.#threads.call({ op: 'close', conn: c.conn }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#connection ?? (await this.#connecting?.catch(() => undefined));
    this.#connection = undefined;
    if (this.#subscribed) {
      this.#threads.off('domain', this.#onDomain);
      this.#threads.off('closed', this.#onClosed);
      this.#subscribed = false;
    }
    if (c) await this.#release(c);
  }

  async listDomains(): Promise<DomainInfo[]> {
    const records = await this.#read((conn) => this.#threads.call<DomainRecord[]>({ op: 'list', conn }));
    return records.map(toDomainInfo).sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }

  async domainInfo(name: string): Promise<DomainInfo> {
    return toDomainInfo(await this.#read((conn) => this.#threads.call<DomainRecord>({ op: 'lookup', conn, name })));
  }

  /** The domain's canonical identity (libvirt's name and UUID for `name`); never throws. */
  async resolve(name: string): Promise<Resolution> {
    try {
      const info = await this.domainInfo(name);
      return { kind: 'found', target: { name: info.name ?? '', uuid: info.uuid ?? '' } };
    } catch (err) {
      const failure = classifyLibvirtError(err);
      return { kind: failure.code === 'VIR_ERR_NO_DOMAIN' ? 'missing' : 'error', failure };
    }
  }

  /** Applies `action` to `target` (looked up by UUID: the domain the policy decided on); never throws. */
  async execute(action: Action, target: DomainTarget | undefined, params: ActionParams = {}, signal?: AbortSignal): Promise<ActionOutcome> {
    if (action === Action.ACTION_LIST_DOMAINS) {
      try {
        const domains = await this.listDomains();
        return ok(DomainState.DOMAIN_STATE_NOSTATE, DomainState.DOMAIN_STATE_NOSTATE, { domains });
      } catch (err) {
        return failed(DomainState.DOMAIN_STATE_NOSTATE, classifyLibvirtError(err));
      }
    }
    if (!target) return failed(DomainState.DOMAIN_STATE_NOSTATE, { code: 'ERR_NO_TARGET', message: `${actionName(action)} needs a domain` });
    let conn: Handle;
    let before: DomainRecord;
    const verb = VERBS[action];
    try {
      conn = (await this.#open()).conn;
      if (verb) return await this.#apply(conn, target, action, verb);
      before = await this.#describe(conn, target.uuid);
    } catch (err) {
      return failed(DomainState.DOMAIN_STATE_NOSTATE, this.#noteFailure(err));
    }
    const beforeState = before.state as DomainState;
    if (action === Action.ACTION_DOMAIN_INFO) return ok(beforeState, beforeState, { domainInfo: toDomainInfo(before) });
    if (action === Action.ACTION_SHUTDOWN) return this.#shutdown(conn, target, before, params, signal);
    return failed(beforeState, { code: 'ERR_UNSUPPORTED_ACTION', message: `action ${actionName(action)} is not supported` });
  }

  /** A verb with the domain described before and after, in one call thread trip; throws only when the look before fails. */
  async #apply(conn: Handle, target: DomainTarget, action: Action, verb: DomainVerb): Promise<ActionOutcome> {
    const r = await this.#threads.call<AppliedRecord>({ op: 'apply', conn, uuid: target.uuid, verb });
    const beforeState = r.before.state as DomainState;
    let after: { state: DomainState | 'gone'; id: number };
    if ('gone' in r.after) after = { state: 'gone', id: -1 };
    else if ('error' in r.after) {
      this.#noteFailure(new LibvirtError(r.after.error));
      after = { state: DomainState.DOMAIN_STATE_NOSTATE, id: -1 };
    } else after = { state: r.after.state as DomainState, id: r.after.id };
    if (r.actError) {
      const failure = this.#noteFailure(new LibvirtError(r.actError));
      return failed(beforeState, failure, after.state === 'gone' ? DomainState.DOMAIN_STATE_SHUTOFF : after.state);
    }
    const extra: Partial<ActionOutcome> = {};
    if (action === Action.ACTION_REBOOT || action === Action.ACTION_RESET) {
      const how = action === Action.ACTION_REBOOT ? 'virDomainReboot: the guest was asked to reboot (ACPI); libvirt restarts it in place' : 'virDomainReset: the guest was reset in place';
      extra.detail = `${how} (domain id ${r.before.id}${after.id === r.before.id ? ', unchanged' : ` → ${after.id}`})`;
    }
    if (after.state === 'gone') return ok(beforeState, DomainState.DOMAIN_STATE_SHUTOFF, { stopMethod: StopMethod.STOP_METHOD_DOMAIN_GONE, detail: 'the transient domain is gone' });
    // NOSTATE: the look after the action failed; the state is not known, so it is not offered as the domain's.
    if (after.state !== DomainState.DOMAIN_STATE_NOSTATE) extra.domainIdAfter = after.id;
    return ok(beforeState, after.state, extra);
  }

  /**
   * ACPI shutdown, then wait for the domain to be off: shut off, or gone (a
   * transient domain is forgotten once it powers off). With `forceAfterMs`,
   * a guest still running then is destroyed.
   */
  async #shutdown(conn: Handle, target: DomainTarget, before: DomainRecord, params: ActionParams, signal?: AbortSignal): Promise<ActionOutcome> {
    const beforeState = before.state as DomainState;
    if (beforeState === DomainState.DOMAIN_STATE_SHUTOFF) {
      return ok(beforeState, beforeState, { stopMethod: StopMethod.STOP_METHOD_ALREADY_OFF, detail: 'the domain was already shut off' });
    }
    try {
      await this.#threads.call({ op: 'act', conn, uuid: target.uuid, verb: 'shutdown' });
    } catch (err) {
      const failure = this.#noteFailure(err);
      const now = await this.#stateOrGone(conn, target.uuid);
      if (now.state === 'gone') return ok(beforeState, DomainState.DOMAIN_STATE_SHUTOFF, { stopMethod: StopMethod.STOP_METHOD_DOMAIN_GONE, detail: 'the transient domain was gone when the ACPI request was sent' });
      return failed(beforeState, failure, now.state);
    }
    const force = params.forceAfterMs;
    const timeoutMs = force ?? params.timeoutMs ?? this.#options.shutdownTimeoutMs;
    const started = this.#now();
    const waited = await waitForShutoff(async () => (await this.#stateOrGone(conn, target.uuid)).state, {
      timeoutMs,
      pollMs: this.#options.shutdownPollMs ?? 250,
      now: this.#now,
      sleep: this.#sleep,
      ...(signal ? { signal } : {}),
    });
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    if (waited.off) {
      const gone = waited.state === 'gone';
      return ok(beforeState, DomainState.DOMAIN_STATE_SHUTOFF, {
        stopMethod: gone ? StopMethod.STOP_METHOD_DOMAIN_GONE : StopMethod.STOP_METHOD_GUEST_POWERED_OFF,
        detail: `${gone ? 'the guest powered off and libvirt removed the transient domain' : 'the guest powered off'} ${seconds(this.#now() - started)} after the ACPI request`,
      });
    }
    const last = waited.state === 'gone' ? DomainState.DOMAIN_STATE_SHUTOFF : waited.state;
    if (signal?.aborted) return failed(beforeState, { code: 'ERR_INTERRUPTED', message: 'the agent stopped while waiting for the guest to power off' }, last);
    if (force !== undefined) {
      try {
        await this.#threads.call({ op: 'act', conn, uuid: target.uuid, verb: 'destroy' });
      } catch (err) {
        // Off by itself in the meantime (shut off, or a transient domain gone): that is what was asked.
        const code = err instanceof LibvirtError ? err.code : -1;
        if (code !== VIR_ERR_NO_DOMAIN && code !== VIR_ERR_OPERATION_INVALID) return failed(beforeState, this.#noteFailure(err), last);
      }
      return ok(beforeState, DomainState.DOMAIN_STATE_SHUTOFF, { stopMethod: StopMethod.STOP_METHOD_FORCED, detail: `the guest was still running ${seconds(force)} after the ACPI request; destroyed (force_after_s)` });
    }
    return failed(
      beforeState,
      { code: 'ERR_SHUTDOWN_TIMEOUT', message: `the guest did not power off within ${seconds(timeoutMs)} after the ACPI shutdown request (it may ignore ACPI); use destroy, or shutdown with force_after_s` },
      last,
    );
  }

  #describe(conn: Handle, uuid: string): Promise<DomainRecord> {
    return this.#threads.call<DomainRecord>({ op: 'describe', conn, uuid });
  }

  /** The domain's state and id, or 'gone' when libvirt no longer knows it. */
  async #stateOrGone(conn: Handle, uuid: string): Promise<{ state: DomainState | 'gone'; id: number }> {
    try {
      const r = await this.#describe(conn, uuid);
      return { state: r.state as DomainState, id: r.id };
    } catch (err) {
      if (err instanceof LibvirtError && err.code === VIR_ERR_NO_DOMAIN) return { state: 'gone', id: -1 };
      this.#noteFailure(err);
      return { state: DomainState.DOMAIN_STATE_NOSTATE, id: -1 };
    }
  }

  #noteFailure(err: unknown): LibvirtFailure {
    const failure = classifyLibvirtError(err);
    if (isConnectionFailure(failure)) this.#drop(); // reconnect on the next call
    return failure;
  }

  async #read<T>(fn: (conn: Handle) => Promise<T>): Promise<T> {
    // Read-only calls may be retried once on a fresh connection.
    try {
      return await this.#bounded(fn((await this.#open()).conn));
    } catch (err) {
      const failure = this.#noteFailure(err);
      if (!isConnectionFailure(failure)) throw err;
      return this.#bounded(fn((await this.#open()).conn));
    }
  }

  /**
   * A read (status reports, look-ups) gives up after `readTimeoutMs`: a libvirtd
   * that stopped answering must not hold up whoever waits for the read (the
   * link's status report). The call thread stays busy until libvirt returns.
   */
  #bounded<T>(call: Promise<T>): Promise<T> {
    const ms = this.#options.readTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LibvirtError({ code: VIR_ERR_OPERATION_TIMEOUT, domain: 0, message: `libvirt did not answer within ${ms} ms` })), ms);
      timer.unref();
    });
    return Promise.race([call, late]).finally(() => clearTimeout(timer));
  }
}

/** Polls `stateOf` until the domain is off (SHUTOFF or gone), the timeout passes, or `signal` aborts; returns the last state seen. */
export async function waitForShutoff(
  stateOf: () => Promise<DomainState | 'gone'>,
  options: { timeoutMs: number; pollMs: number; now: () => number; sleep: (ms: number) => Promise<void>; signal?: AbortSignal },
): Promise<{ off: boolean; state: DomainState | 'gone' }> {
  const deadline = options.now() + options.timeoutMs;
  while (true) {
    const state = await stateOf();
    if (state === DomainState.DOMAIN_STATE_SHUTOFF || state === 'gone') return { off: true, state };
    if (options.now() >= deadline || options.signal?.aborted) return { off: false, state };
    await options.sleep(Math.min(options.pollMs, Math.max(0, deadline - options.now())));
  }
}

function toDomainInfo(r: DomainRecord): DomainInfo {
  return { name: r.name, uuid: r.uuid, state: r.state as DomainState, vcpus: r.vcpus, memoryKib: r.memoryKib, maxMemoryKib: r.maxMemoryKib, id: r.id };
}

function ok(previousState: DomainState, newState: DomainState, extra: Partial<ActionOutcome> = {}): ActionOutcome {
  return { outcome: Outcome.OUTCOME_APPLIED, previousState, newState, errorCode: '', errorMessage: '', ...extra };
}

function failed(previousState: DomainState, failure: LibvirtFailure, newState = previousState): ActionOutcome {
  return { outcome: Outcome.OUTCOME_FAILED, previousState, newState, errorCode: failure.code, errorMessage: failure.message };
}
