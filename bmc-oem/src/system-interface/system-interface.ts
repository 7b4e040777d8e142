/**
 * The system interface as a whole: one VmListener per `--vm-listen`, all
 * dispatching into the same command table on channel 'system', and the
 * queue-1 doorbell wired to every listener's current host connection.
 */
import { QueueId } from '@backchannel/proto';
import type { VmListenSpec } from '../config/address.js';
import type { QueueEngine } from '../queues/queue-engine.js';
import { HostInterfaceState } from './host-interface-state.js';
import { emptyListenerStats, type HostLinkTakeover, VmListener, type VmListenerLogger, type VmListenerStats } from './vm-listener.js';
import type { SystemDispatch } from './vm-session.js';

export interface SystemInterfaceOptions {
  specs: readonly VmListenSpec[];
  dispatch: SystemDispatch;
  engine: QueueEngine;
  /** Shared with the KCS App command handlers; created here when not given. */
  state?: HostInterfaceState;
  logger?: VmListenerLogger;
  /** File mode of unix sockets (default 0600). */
  socketMode?: number;
  /** TCP listeners accept only these peers (all when empty). */
  allowPeers?: readonly string[];
  takeoverGraceMs?: number;
  onTakeover?: (event: HostLinkTakeover) => void;
}

export class SystemInterface {
  #state: HostInterfaceState;
  readonly listeners: readonly VmListener[];
  #unsubscribe: () => void;

  private constructor(state: HostInterfaceState, listeners: VmListener[], engine: QueueEngine) {
    this.#state = state;
    this.listeners = listeners;
    this.#unsubscribe = this.#subscribe(engine);
  }

  get state(): HostInterfaceState {
    return this.#state;
  }

  #subscribe(engine: QueueEngine): () => void {
    const listeners = this.listeners;
    return engine.onAppend((queue) => {
      if (queue === QueueId.ToHost) for (const l of listeners) l.ringDoorbell();
    });
  }

  /** True while any listener has a host connected. */
  get hostConnected(): boolean {
    return this.listeners.some((l) => l.connected);
  }

  /**
   * A cold reset of the BMC: the doorbell follows the new queue engine, and
   * every host connection is dropped so the host starts afresh with the new
   * state (the listening sockets stay, so addresses and ports do not change).
   */
  reset(engine: QueueEngine, state: HostInterfaceState): void {
    this.#unsubscribe();
    this.#state = state;
    this.#unsubscribe = this.#subscribe(engine);
    for (const l of this.listeners) l.reset(state);
  }

  static async open(options: SystemInterfaceOptions): Promise<SystemInterface> {
    const state = options.state ?? new HostInterfaceState(options.engine);
    const listeners: VmListener[] = [];
    try {
      for (const spec of options.specs) {
        listeners.push(
          await VmListener.open({
            spec,
            dispatch: options.dispatch,
            state,
            ...(options.logger ? { logger: options.logger } : {}),
            ...(options.socketMode === undefined ? {} : { socketMode: options.socketMode }),
            ...(options.allowPeers === undefined ? {} : { allowPeers: options.allowPeers }),
            ...(options.takeoverGraceMs === undefined ? {} : { takeoverGraceMs: options.takeoverGraceMs }),
            ...(options.onTakeover === undefined ? {} : { onTakeover: options.onTakeover }),
          }),
        );
      }
    } catch (err) {
      await Promise.all(listeners.map((l) => l.close()));
      throw err;
    }
    return new SystemInterface(state, listeners, options.engine);
  }

  /** Counters summed over listeners, for metrics. */
  stats(): VmListenerStats {
    const total: VmListenerStats = emptyListenerStats();
    for (const l of this.listeners) for (const [k, v] of Object.entries(l.stats)) total[k as keyof VmListenerStats] += v;
    return total;
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await Promise.all(this.listeners.map((l) => l.close()));
  }
}
