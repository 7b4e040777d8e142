/**
 * All host links of one process. Follows the store's host list (hosts
 * added or removed with the CLI appear and disappear within a few
 * seconds), runs the expiry of unanswered challenges, and answers health
 * questions for the API.
 */
import type { RandomBytes } from '@backchannel/proto';
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../api/metrics.js';
import type { LinkHealth } from '../api/views.js';
import type { CommandService } from '../commands/command-service.js';
import type { Store } from '../store/store.js';
import type { BmcConnector } from './bmc-session.js';
import { HostLink, type LinkTuning } from './host-link.js';

export interface LinkManagerOptions {
  store: Store;
  commands: CommandService;
  connector: BmcConnector;
  clock: () => number;
  randomBytes: RandomBytes;
  random: () => number;
  tuning?: Partial<LinkTuning>;
  metrics?: ServiceMetrics;
  logger?: Logger;
  agentVersion?: string;
  /** How often the host list and challenge expiry are checked. */
  housekeepingMs?: number;
}

export class LinkManager {
  readonly #o: LinkManagerOptions;
  readonly #links = new Map<string, HostLink>();
  #timer: NodeJS.Timeout | undefined;
  #housekeeping: Promise<void> = Promise.resolve();

  constructor(options: LinkManagerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => {
      this.#housekeeping = this.#housekeeping.then(() => this.#tick()).catch((err: unknown) => {
        this.#o.logger?.error({ err: (err as Error).message }, 'link housekeeping failed');
      });
    }, this.#o.housekeepingMs ?? 2_000);
  }

  async #tick(): Promise<void> {
    await this.refresh();
    const expired = await this.#o.commands.expireDue();
    for (const _ of expired) this.#o.metrics?.commandsFinal.inc({ state: 'expired' });
  }

  /** Starts links for new hosts and stops those of removed ones. */
  async refresh(): Promise<void> {
    const ids = new Set((await this.#o.store.listHosts()).map((h) => h.id));
    for (const id of ids) {
      if (this.#links.has(id)) continue;
      const link = new HostLink({ ...this.#o, hostId: id });
      this.#links.set(id, link);
      link.start();
    }
    for (const [id, link] of this.#links) {
      if (ids.has(id)) continue;
      this.#links.delete(id);
      await link.stop();
    }
  }

  health(hostId: string): LinkHealth | undefined {
    return this.#links.get(hostId)?.health();
  }

  wake(hostId: string): void {
    this.#links.get(hostId)?.wake();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#housekeeping;
    await Promise.all([...this.#links.values()].map((l) => l.stop()));
    this.#links.clear();
  }
}
