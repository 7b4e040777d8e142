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
import { Action, DomainState, Outcome, actionName, type DomainInfo } from '@backchannel/proto';
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
}

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

  /** Applies `action` to `domain`; never throws. */
  async execute(action: Action, domain: string): Promise<ActionOutcome> {
    if (action === Action.ACTION_LIST_DOMAINS) {
      try {
        const domains = await this.listDomains();
        return ok(DomainState.DOMAIN_STATE_NOSTATE, DomainState.DOMAIN_STATE_NOSTATE, { domains });
      } catch (err) {
        return failed(DomainState.DOMAIN_STATE_NOSTATE, classifyLibvirtError(err));
      }
    }
    let h: Hypervisor;
    let dom: NativeDomain;
    let before: DomainState;
    try {
      h = await this.connect();
      dom = await h.domainLookupByName(domain);
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
        case Action.ACTION_SHUTDOWN: {
          await h.domainShutdown(dom);
          const timedOut = await this.#awaitShutoff(h, dom);
          if (timedOut) return timedOut(before);
          break;
        }
        case Action.ACTION_REBOOT: {
          await h.domainShutdown(dom);
          const timedOut = await this.#awaitShutoff(h, dom);
          if (timedOut) return timedOut(before);
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

  async #awaitShutoff(h: Hypervisor, dom: NativeDomain): Promise<((before: DomainState) => ActionOutcome) | undefined> {
    const waited = await waitForShutoff(() => this.#stateOf(h, dom), {
      timeoutMs: this.#options.shutdownTimeoutMs,
      pollMs: this.#options.shutdownPollMs ?? 250,
      now: this.#now,
      sleep: this.#sleep,
    });
    if (waited.shutoff) return undefined;
    const seconds = Math.round(this.#options.shutdownTimeoutMs / 1000);
    return (before) =>
      failed(
        before,
        { code: 'ERR_SHUTDOWN_TIMEOUT', message: `the guest did not power off within ${seconds} s after the ACPI shutdown request (it may ignore ACPI); use destroy to force it off` },
        waited.state,
      );
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

/** Polls `stateOf` until SHUTOFF or the timeout; returns the last state seen. */
export async function waitForShutoff(
  stateOf: () => Promise<DomainState>,
  options: { timeoutMs: number; pollMs: number; now: () => number; sleep: (ms: number) => Promise<void> },
): Promise<{ shutoff: boolean; state: DomainState }> {
  const deadline = options.now() + options.timeoutMs;
  while (true) {
    const state = await stateOf();
    if (state === DomainState.DOMAIN_STATE_SHUTOFF) return { shutoff: true, state };
    if (options.now() >= deadline) return { shutoff: false, state };
    await options.sleep(options.pollMs);
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
