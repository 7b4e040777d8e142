/**
 * The agent's one long-lived libvirt connection (@unraid/libvirt) and the VM
 * actions it applies. Every action answers with an ActionOutcome, never an
 * exception: unknown domain or an action invalid in the current state comes back
 * FAILED with libvirt's error code and message. A connection failure marks the
 * connection broken; the next call reconnects (state-changing calls are not
 * retried blindly: whether they took effect is unknown, so they report FAILED).
 *
 * The binding has no virDomainReboot/virDomainReset: reboot is a graceful
 * shutdown (same timeout) followed by start, reset a destroy followed by start.
 * Both end with the domain running, as libvirt's own calls do; for a transient
 * domain (gone once powered off) they fail with VIR_ERR_NO_DOMAIN. The binding
 * has no lifecycle events either, so status changes are found by polling.
 */
import { Hypervisor } from '@unraid/libvirt';
import { Action, DomainState, Outcome, StopMethod, actionName, type DomainInfo } from '@backchannel/proto';
import type { ActionParams } from './action-params.js';
import { classifyLibvirtError, isConnectionFailure, type LibvirtFailure } from './libvirt-errors.js';

type NativeDomain = Awaited<ReturnType<Hypervisor['domainLookupByName']>>;

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
}

/** A domain as libvirt names it: what the policy decides on and what an action is applied to. */
export interface DomainTarget {
  name: string;
  uuid: string;
}

export type Resolution = { kind: 'found'; target: DomainTarget } | { kind: 'missing' | 'error'; failure: LibvirtFailure };

export interface LibvirtAdapterOptions {
  uri: string;
  /** How long a graceful shutdown (and the first half of reboot) may take. */
  shutdownTimeoutMs: number;
  /** How often to look at the state while waiting for a shutdown. */
  shutdownPollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class LibvirtAdapter {
  readonly uri: string;
  readonly #options: LibvirtAdapterOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  #hypervisor: Hypervisor | undefined;
  #connecting: Promise<Hypervisor> | undefined;
  #reconnects = 0;

  constructor(options: LibvirtAdapterOptions) {
    this.uri = options.uri;
    this.#options = options;
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

  async connect(): Promise<Hypervisor> {
    if (this.#hypervisor) return this.#hypervisor;
    this.#connecting ??= (async () => {
      const h = new Hypervisor({ uri: this.uri });
      try {
        await h.connectOpen();
      } finally {
        this.#connecting = undefined;
      }
      this.#hypervisor = h;
      return h;
    })();
    return this.#connecting;
  }

  async close(): Promise<void> {
    const h = this.#hypervisor;
    this.#hypervisor = undefined;
    if (h) await h.connectClose().catch(() => undefined);
  }

  async listDomains(): Promise<DomainInfo[]> {
    return this.#withConnection(async (h) => {
      const domains = await h.connectListAllDomains();
      const out = await Promise.all(domains.map((d) => describeDomain(h, d)));
      return out.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    });
  }

  async domainInfo(name: string): Promise<DomainInfo> {
    return this.#withConnection(async (h) => describeDomain(h, await h.domainLookupByName(name)));
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
    let h: Hypervisor;
    let dom: NativeDomain;
    let before: DomainState;
    try {
      h = await this.connect();
      dom = await h.domainLookupByUUIDString(target.uuid);
      before = (await h.domainGetInfo(dom)).state as number as DomainState;
    } catch (err) {
      return failed(DomainState.DOMAIN_STATE_NOSTATE, this.#noteFailure(err));
    }
    try {
      switch (action) {
        case Action.ACTION_DOMAIN_INFO:
          return ok(before, before, { domainInfo: await describeDomain(h, dom) });
        case Action.ACTION_START:
          await h.domainCreate(dom);
          break;
        case Action.ACTION_DESTROY:
          await h.domainDestroy(dom);
          break;
        case Action.ACTION_SUSPEND:
          await h.domainSuspend(dom);
          break;
        case Action.ACTION_RESUME:
          await h.domainResume(dom);
          break;
        case Action.ACTION_SHUTDOWN:
          return await this.#shutdown(h, dom, before, params, signal);
        case Action.ACTION_REBOOT: {
          const stopped = await this.#shutdown(h, dom, before, {}, signal);
          if (stopped.outcome !== Outcome.OUTCOME_APPLIED) return stopped;
          await h.domainCreate(dom);
          break;
        }
        case Action.ACTION_RESET:
          await h.domainDestroy(dom);
          await h.domainCreate(dom);
          break;
        default:
          return failed(before, { code: 'ERR_UNSUPPORTED_ACTION', message: `action ${actionName(action)} is not supported` });
      }
    } catch (err) {
      const failure = this.#noteFailure(err);
      return failed(before, failure, await this.#stateOf(h, dom));
    }
    return ok(before, await this.#stateOf(h, dom));
  }

  /**
   * ACPI shutdown, then wait for the domain to be off: shut off, or gone (a
   * transient domain is forgotten once it powers off). With `forceAfterMs`,
   * a guest still running then is destroyed.
   */
  async #shutdown(h: Hypervisor, dom: NativeDomain, before: DomainState, params: ActionParams, signal?: AbortSignal): Promise<ActionOutcome> {
    await h.domainShutdown(dom);
    const force = params.forceAfterMs;
    const timeoutMs = force ?? params.timeoutMs ?? this.#options.shutdownTimeoutMs;
    const started = this.#now();
    const waited = await waitForShutoff(() => this.#stateOrGone(h, dom), {
      timeoutMs,
      pollMs: this.#options.shutdownPollMs ?? 250,
      now: this.#now,
      sleep: this.#sleep,
      ...(signal ? { signal } : {}),
    });
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    if (waited.off) {
      const gone = waited.state === 'gone';
      return ok(before, DomainState.DOMAIN_STATE_SHUTOFF, {
        stopMethod: gone ? StopMethod.STOP_METHOD_DOMAIN_GONE : StopMethod.STOP_METHOD_GUEST_POWERED_OFF,
        detail: `${gone ? 'the guest powered off and libvirt removed the transient domain' : 'the guest powered off'} ${seconds(this.#now() - started)} after the ACPI request`,
      });
    }
    const last = waited.state === 'gone' ? DomainState.DOMAIN_STATE_SHUTOFF : waited.state;
    if (signal?.aborted) return failed(before, { code: 'ERR_INTERRUPTED', message: 'the agent stopped while waiting for the guest to power off' }, last);
    if (force !== undefined) {
      try {
        await h.domainDestroy(dom);
      } catch (err) {
        const code = classifyLibvirtError(err).code;
        if (code !== 'VIR_ERR_NO_DOMAIN' && code !== 'VIR_ERR_OPERATION_INVALID') throw err; // already off by itself: fine
      }
      return ok(before, DomainState.DOMAIN_STATE_SHUTOFF, { stopMethod: StopMethod.STOP_METHOD_FORCED, detail: `the guest was still running ${seconds(force)} after the ACPI request; destroyed (force_after_s)` });
    }
    return failed(
      before,
      { code: 'ERR_SHUTDOWN_TIMEOUT', message: `the guest did not power off within ${seconds(timeoutMs)} after the ACPI shutdown request (it may ignore ACPI); use destroy, or shutdown with force_after_s` },
      last,
    );
  }

  /** The domain's state, or 'gone' when libvirt no longer knows it. */
  async #stateOrGone(h: Hypervisor, dom: NativeDomain): Promise<DomainState | 'gone'> {
    try {
      return (await h.domainGetInfo(dom)).state as number as DomainState;
    } catch (err) {
      if (classifyLibvirtError(err).code === 'VIR_ERR_NO_DOMAIN') return 'gone';
      return DomainState.DOMAIN_STATE_NOSTATE;
    }
  }

  async #stateOf(h: Hypervisor, dom: NativeDomain): Promise<DomainState> {
    try {
      return (await h.domainGetInfo(dom)).state as number as DomainState;
    } catch {
      return DomainState.DOMAIN_STATE_NOSTATE;
    }
  }

  #noteFailure(err: unknown): LibvirtFailure {
    const failure = classifyLibvirtError(err);
    if (isConnectionFailure(failure) && this.#hypervisor) {
      this.#hypervisor = undefined; // reconnect on the next call
      this.#reconnects += 1;
    }
    return failure;
  }

  async #withConnection<T>(fn: (h: Hypervisor) => Promise<T>): Promise<T> {
    // Read-only calls may be retried once on a fresh connection.
    try {
      return await fn(await this.connect());
    } catch (err) {
      const failure = this.#noteFailure(err);
      if (!isConnectionFailure(failure)) throw err;
      return fn(await this.connect());
    }
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

async function describeDomain(h: Hypervisor, dom: NativeDomain): Promise<DomainInfo> {
  const [name, uuid, info, id] = await Promise.all([h.domainGetName(dom), h.domainGetUUIDString(dom), h.domainGetInfo(dom), h.domainGetID(dom)]);
  return {
    name,
    uuid,
    state: info.state as number as DomainState,
    vcpus: info.nrVirtCpu,
    memoryKib: info.memory,
    maxMemoryKib: info.maxMem,
    id: typeof id === 'number' ? id : -1,
  };
}

function ok(previousState: DomainState, newState: DomainState, extra: Partial<ActionOutcome> = {}): ActionOutcome {
  return { outcome: Outcome.OUTCOME_APPLIED, previousState, newState, errorCode: '', errorMessage: '', ...extra };
}

function failed(previousState: DomainState, failure: LibvirtFailure, newState = previousState): ActionOutcome {
  return { outcome: Outcome.OUTCOME_FAILED, previousState, newState, errorCode: failure.code, errorMessage: failure.message };
}
