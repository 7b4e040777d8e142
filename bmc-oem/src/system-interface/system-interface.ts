/**
 * The system interface as a whole: one VmListener per `--vm-listen`, all
 * dispatching into the same command table on channel 'system', and the
 * queue-1 doorbell wired to every listener's current host connection.
 */
import { QueueId } from '@backchannel/proto';
import type { VmListenSpec } from '../config/address.js';
import type { QueueEngine } from '../queues/queue-engine.js';
import { HostInterfaceState } from './host-interface-state.js';
import { VmListener, type VmListenerLogger, type VmListenerStats } from './vm-listener.js';
import { emptyVmStats, type SystemDispatch } from './vm-session.js';

export interface SystemInterfaceOptions {
  specs: readonly VmListenSpec[];
  dispatch: SystemDispatch;
  engine: QueueEngine;
  /** Shared with the KCS App command handlers; created here when not given. */
  state?: HostInterfaceState;
  logger?: VmListenerLogger;
}

export class SystemInterface {
  readonly state: HostInterfaceState;
  readonly listeners: readonly VmListener[];
  readonly #unsubscribe: () => void;

  private constructor(state: HostInterfaceState, listeners: VmListener[], engine: QueueEngine) {
    this.state = state;
    this.listeners = listeners;
    this.#unsubscribe = engine.onAppend((queue) => {
      if (queue === QueueId.ToHost) for (const l of listeners) l.ringDoorbell();
    });
  }

  static async open(options: SystemInterfaceOptions): Promise<SystemInterface> {
    const state = options.state ?? new HostInterfaceState(options.engine);
    const listeners: VmListener[] = [];
    try {
      for (const spec of options.specs) {
        listeners.push(
          await VmListener.open({ spec, dispatch: options.dispatch, state, ...(options.logger ? { logger: options.logger } : {}) }),
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
    const total: VmListenerStats = { ...emptyVmStats(), connections: 0, replacedConnections: 0, disconnects: 0 };
    for (const l of this.listeners) for (const [k, v] of Object.entries(l.stats)) total[k as keyof VmListenerStats] += v;
    return total;
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    await Promise.all(this.listeners.map((l) => l.close()));
  }
}
