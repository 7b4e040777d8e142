/**
 * Changes worth telling a watching console about, as they happen in this
 * process: alerts stored or acknowledged, commands queued or moving on,
 * link health changing. `observeStore` wraps the store every part of
 * `serve` uses (API, command service, links) and publishes after each
 * committed change, so nothing is announced that a crash could undo.
 *
 * In-process only: with several PostgreSQL replicas a console sees the
 * changes made by the replica it is connected to (its links' alerts and
 * results, its API's commands); a reload shows everything.
 */
import type { AlertRecord, CommandRecord, Mutation, Store } from '../../store/store.js';
import { alertView, commandSummaryView } from '../views.js';

export type BusEvent =
  | { type: 'alert'; alert: ReturnType<typeof alertView> }
  | { type: 'command'; command: ReturnType<typeof commandSummaryView> }
  | { type: 'link'; hostId: string; link: unknown };

export class EventBus {
  readonly #listeners = new Set<(e: BusEvent) => void>();
  #seq = 0;

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: (e: BusEvent & { seq: number }) => void): () => void {
    const l = listener as (e: BusEvent) => void;
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  publish(e: BusEvent): void {
    const withSeq = { ...e, seq: ++this.#seq };
    for (const l of [...this.#listeners]) {
      try {
        l(withSeq);
      } catch {
        // A listener's failure (a closed stream) is its own business.
      }
    }
  }
}

async function publishApplied(store: Store, bus: EventBus, mutations: readonly Mutation[]): Promise<void> {
  const commands = new Set<string>();
  const alerts: { hostId: string; alertId: string }[] = [];
  for (const m of mutations) {
    if (m.kind === 'command.insert') commands.add(m.command.id);
    else if (m.kind === 'command.transition') commands.add(m.id);
    else if (m.kind === 'alert.insert') alerts.push({ hostId: m.alert.hostId, alertId: m.alert.alertId });
  }
  for (const id of commands) {
    const c: CommandRecord | undefined = await store.getCommand(id);
    if (c) bus.publish({ type: 'command', command: commandSummaryView(c) });
  }
  for (const a of alerts) {
    const found = (await store.listAlerts({ hostId: a.hostId, limit: 20 })).find((r: AlertRecord) => r.alertId === a.alertId);
    if (found) bus.publish({ type: 'alert', alert: alertView(found) });
  }
}

/**
 * The store, publishing on `bus` after every committed `apply` and
 * `ackAlert`. Every other method (and `instanceof`, private fields) is the
 * store's own.
 */
export function observeStore<S extends Store>(store: S, bus: EventBus): S {
  return new Proxy(store, {
    get(target, prop, _receiver) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'apply') {
        return async (mutations: Mutation[], options?: Parameters<Store['apply']>[1]) => {
          const result = await target.apply(mutations, options);
          // Not awaited: the link's loop and the API answer do not wait for the console's news.
          if (bus.subscribers > 0) void publishApplied(target, bus, mutations).catch(() => undefined);
          return result;
        };
      }
      if (prop === 'ackAlert') {
        return async (...args: Parameters<Store['ackAlert']>) => {
          const acked = await target.ackAlert(...args);
          if (acked) bus.publish({ type: 'alert', alert: alertView(acked) });
          return acked;
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
