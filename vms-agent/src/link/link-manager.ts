/**
 * All host links of one process. Follows the store's host list (hosts
 * added or removed with the CLI appear and disappear within a few
 * seconds), runs the expiry of unanswered challenges, and answers health
 * questions for the API.
 *
 * With a store shared by several replicas (`leases`), it runs only the
 * links whose lease this replica holds, renews them with the housekeeping,
 * stops a link as soon as its lease can no longer be vouched for, and
 * releases its leases when it stops.
 */
import type { LinkHealth } from '../api/views.js';
import { HostLink } from './host-link.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { LinkDependencies } from './link-options.js';

export interface LinkManagerOptions extends LinkDependencies {
  /** How often the host list and challenge expiry are checked. */
  housekeepingMs?: number;
  /** Several replicas share the store: drive only the hosts whose link lease this replica holds. */
  leases?: LeaseKeeper;
}

export class LinkManager {
  readonly #o: LinkManagerOptions;
  readonly #links = new Map<string, HostLink>();
  /** Links still winding down; their host gets no new link until they have. */
  readonly #stopping = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #fenceTimer: NodeJS.Timeout | undefined;
  #housekeeping: Promise<void> = Promise.resolve();

  constructor(options: LinkManagerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const leases = this.#o.leases;
    await this.refresh();
    this.#timer = setInterval(() => {
      this.#housekeeping = this.#housekeeping.then(() => this.#tick()).catch((err: unknown) => {
        this.#o.logger?.error({ err: (err as Error).message }, 'link housekeeping failed');
      });
    }, Math.min(this.#o.housekeepingMs ?? 2_000, leases?.renewEveryMs ?? Number.POSITIVE_INFINITY));
    // Independent of the housekeeping chain, which waits on the database: a link stops when its lease runs out locally.
    if (leases) this.#fenceTimer = setInterval(() => this.#fence(), Math.max(50, Math.floor(leases.renewEveryMs / 2)));
  }

  #fence(): void {
    for (const [id, link] of this.#links) {
      if (this.#o.leases?.holds(id) !== false) continue;
      this.#o.logger?.warn({ host: id, owner: this.#o.leases.owner }, 'link lease not renewed in time; stopping this link so another replica can take it');
      void this.#stopLink(id, link);
    }
  }

  #stopLink(id: string, link: HostLink): Promise<void> {
    this.#links.delete(id);
    const done = link.stop().finally(() => this.#stopping.delete(id));
    this.#stopping.set(id, done);
    return done;
  }

  async #tick(): Promise<void> {
    await this.refresh();
    const expired = await this.#o.commands.expireDue();
    for (const _ of expired) this.#o.metrics?.commandsFinal.inc({ state: 'expired' });
  }

  /** Starts links for new hosts and stops those of removed ones. */
  async refresh(): Promise<void> {
    const all = (await this.#o.store.listHosts()).map((h) => h.id);
    const ids = this.#o.leases ? await this.#o.leases.claim(all) : new Set(all);
    for (const id of ids) {
      if (this.#links.has(id) || this.#stopping.has(id)) continue;
      if (this.#o.leases) this.#o.logger?.info({ host: id, owner: this.#o.leases.owner }, 'took the link lease; starting the link');
      const link = new HostLink({ ...this.#o, hostId: id });
      this.#links.set(id, link);
      link.start();
    }
    for (const [id, link] of this.#links) {
      if (ids.has(id)) continue;
      await this.#stopLink(id, link);
    }
    // A removed host's series go with it (every tick: a link wound down late may have set one again).
    await this.#o.metrics?.retainHosts(new Set(all));
  }

  health(hostId: string): LinkHealth | undefined {
    return this.#links.get(hostId)?.health();
  }

  wake(hostId: string): void {
    this.#links.get(hostId)?.wake();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#fenceTimer) clearInterval(this.#fenceTimer);
    await this.#housekeeping;
    await Promise.all([...[...this.#links].map(([id, l]) => this.#stopLink(id, l)), ...this.#stopping.values()]);
    await this.#o.leases?.releaseAll().catch((err: unknown) => {
      this.#o.logger?.warn({ err: (err as Error).message }, 'could not release the link leases; other replicas take them over when they expire');
    });
  }
}
