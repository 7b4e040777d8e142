/**
 * All host links of one process. Follows the store's host list (hosts
 * added or removed with the CLI appear and disappear within a few
 * seconds), runs the expiry of unanswered challenges, and answers health
 * questions for the API.
 *
 * With a store shared by several replicas (`leases`), it runs only the
 * links whose lease this replica holds: a heartbeat every `renewEveryMs`
 * renews them and takes about this replica's share of the free ones;
 * leases above the share (another replica joined) are handed over: link
 * stopped first, lease released after, so two links never overlap. A
 * link stops as soon as its lease can no longer be vouched for; every
 * lease is released when the manager stops.
 */
import type { LinkHealth } from '../api/views.js';
import { HostLink } from './host-link.js';
import { HealthPublisher } from '../replicas/shared-link-health.js';
import { type FencedError, fencedConnector } from './fenced-connector.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { LinkDependencies } from './link-options.js';

export interface LinkManagerOptions extends LinkDependencies {
  /** How often the host list and challenge expiry are checked. */
  housekeepingMs?: number;
  /** Several replicas share the store: drive only the hosts whose link lease this replica holds. */
  leases?: LeaseKeeper;
  /** Tells the other replicas a link's health (replicas/shared-link-health.ts); called on a change and every few seconds. */
  publishHealth?: (hostId: string, health: LinkHealth) => void;
}

export class LinkManager {
  readonly #o: LinkManagerOptions;
  readonly #links = new Map<string, HostLink>();
  /** Links still winding down; their host gets no new link until they have. */
  readonly #stopping = new Map<string, Promise<void>>();
  /** The lease generation each running link was started under (a new generation means a new link). */
  readonly #linkGeneration = new Map<string, number>();
  #rebalanceQueued = false;
  #expiring: Promise<void> | undefined;
  /** host → the generation the BMC refused: no link for it until a heartbeat brings a newer one. */
  readonly #fencedGeneration = new Map<string, number>();
  /** Each host's OEM IANA, from the last host list (the fencing claim needs it). */
  readonly #iana = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #fenceTimer: NodeJS.Timeout | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  readonly #publisher: HealthPublisher;
  #housekeeping: Promise<void> = Promise.resolve();

  constructor(options: LinkManagerOptions) {
    this.#o = options;
    this.#publisher = new HealthPublisher(options.clock);
  }

  async start(): Promise<void> {
    const leases = this.#o.leases;
    await this.refresh();
    this.#timer = setInterval(() => this.#schedule(), Math.min(this.#o.housekeepingMs ?? 2_000, leases?.renewEveryMs ?? Number.POSITIVE_INFINITY));
    // Independent of the housekeeping chain, which waits on the database: a link stops when its lease runs out locally.
    if (leases) this.#fenceTimer = setInterval(() => this.#fence(), Math.max(50, Math.floor(leases.renewEveryMs / 2)));
    // Cheap when nothing changed (a comparison per link); a change reaches the other replicas within this period.
    if (this.#o.publishHealth) this.#healthTimer = setInterval(() => this.#publishHealth(), 100);
  }

  #publishHealth(): void {
    for (const [id, link] of this.#links) {
      const health = link.health();
      if (this.#publisher.due(id, health)) this.#o.publishHealth?.(id, health);
    }
  }

  #schedule(): void {
    this.#housekeeping = this.#housekeeping.then(() => this.#tick()).catch((err: unknown) => {
      this.#o.logger?.error({ err: (err as Error).message }, 'link housekeeping failed');
    });
  }

  /**
   * Another replica released leases (hand-over, shutdown) or left: run a
   * heartbeat now rather than at the next period, so its hosts move over
   * without a gap. Several notifications in a row cause one extra run.
   */
  rebalanceSoon(): void {
    if (!this.#o.leases || this.#rebalanceQueued || !this.#timer) return;
    this.#rebalanceQueued = true;
    this.#housekeeping = this.#housekeeping
      .then(() => {
        this.#rebalanceQueued = false;
        return this.refresh();
      })
      .catch((err: unknown) => {
        this.#o.logger?.error({ err: (err as Error).message }, 'link rebalance failed');
      });
  }

  #fence(): void {
    for (const [id, link] of this.#links) {
      if (this.#o.leases?.holds(id) !== false) continue;
      this.#o.logger?.warn({ host: id, owner: this.#o.leases.owner }, 'link lease not renewed in time; stopping this link so another replica can take it');
      void this.#stopLink(id, link);
    }
  }

  #stopLink(id: string, link: HostLink, graceMs?: number): Promise<void> {
    this.#links.delete(id);
    this.#linkGeneration.delete(id);
    this.#publisher.forget(id);
    const done = link
      .stop(graceMs)
      .catch((err: unknown) => this.#o.logger?.warn({ host: id, err: (err as Error).message }, 'link did not stop cleanly'))
      .finally(() => this.#stopping.delete(id));
    this.#stopping.set(id, done);
    return done;
  }

  async #tick(): Promise<void> {
    await this.refresh();
    // Beside the heartbeat chain, one at a time: a slow store must not delay the lease renewals.
    if (this.#expiring) return;
    this.#expiring = this.#o.commands
      .expireDue()
      .then((expired) => {
        for (const _ of expired) this.#o.metrics?.commandsFinal.inc({ state: 'expired' });
      })
      .catch((err: unknown) => this.#o.logger?.error({ err: (err as Error).message }, 'expiring challenges failed'))
      .finally(() => (this.#expiring = undefined));
  }

  /** Starts links for new hosts (or newly leased ones) and stops those of removed (or lost, or handed-over) ones. */
  async refresh(): Promise<void> {
    const leases = this.#o.leases;
    // The heartbeat first, on its own connections: a busy pool must not cost this replica its leases.
    const beat = leases ? await leases.heartbeat() : undefined;
    let all: string[] | undefined;
    if (beat) {
      for (const [id, iana] of beat.iana) this.#iana.set(id, iana);
      // The host list only prunes metrics here: beside the heartbeat chain, so a busy pool cannot delay a renewal.
      this.#pruneMetricsSoon();
    } else {
      all = (await this.#o.store.listHosts()).map((h) => h.id);
    }
    const iana = this.#iana;
    let ids: Set<string>;
    let generations: Map<string, number> | undefined;
    if (leases && beat) {
      generations = beat.held;
      if (beat.shed.length > 0) {
        // Hand-over without overlap: our links stop before the leases are released.
        // A short grace: the heartbeat waits for it, and the BMC's generation check fences whatever is still in flight.
        await Promise.all(beat.shed.map((id) => (this.#links.has(id) ? this.#stopLink(id, this.#links.get(id)!, 1_000) : this.#stopping.get(id))));
        await leases.release(beat.shed);
        this.#o.logger?.info({ hosts: beat.shed, owner: leases.owner, share: beat.share }, 'handed link leases over to other replicas (above this replica’s share)');
        for (const id of beat.shed) generations.delete(id);
      }
      ids = new Set(generations.keys());
    } else {
      ids = new Set(all);
    }
    if (all === undefined) all = [];
    for (const [id, link] of this.#links) {
      // Lost, removed, or held again under a newer generation (another replica had it meanwhile).
      // Not awaited: a link winding down (up to its stop grace) must not delay the next heartbeat;
      // the host gets no new link here until it has (#stopping).
      if (ids.has(id) && generations?.get(id) === this.#linkGeneration.get(id)) continue;
      void this.#stopLink(id, link).catch(() => undefined);
    }
    for (const id of ids) {
      if (this.#links.has(id) || this.#stopping.has(id)) continue;
      const generation = generations?.get(id);
      const refused = this.#fencedGeneration.get(id);
      if (generation !== undefined && refused !== undefined && generation <= refused) continue;
      if (leases) this.#o.logger?.info({ host: id, owner: leases.owner, generation }, 'took the link lease; starting the link');
      const connector =
        generation === undefined
          ? this.#o.connector
          : fencedConnector(this.#o.connector, {
              hostId: id,
              iana: iana.get(id) ?? 0,
              generation,
              onFenced: (err) => this.#onFenced(id, generation, link, err),
              onUnsupported: () => this.#o.logger?.warn({ host: id }, "the BMC does not know Claim Producer Generation (OEM 0x04): this link is fenced by the lease keeper's clock only"),
            });
      const link: HostLink = new HostLink({ ...this.#o, connector, hostId: id });
      this.#links.set(id, link);
      if (generation !== undefined) this.#linkGeneration.set(id, generation);
      link.start();
    }
    // A removed host's series go with it (every tick: a link wound down late may have set one again).
    if (!beat) await this.#o.metrics?.retainHosts(new Set(all));
  }

  #pruning: Promise<void> | undefined;

  #pruneMetricsSoon(): void {
    if (this.#pruning || !this.#o.metrics) return;
    this.#pruning = this.#o.store
      .listHosts()
      .then((hosts) => this.#o.metrics?.retainHosts(new Set(hosts.map((h) => h.id))))
      .catch(() => undefined)
      .finally(() => (this.#pruning = undefined));
  }

  /** The BMC refused this link's generation: another replica holds the host now. Stop at once; nothing more goes out. */
  #onFenced(id: string, generation: number, link: HostLink, err: FencedError): void {
    this.#fencedGeneration.set(id, generation);
    this.#o.logger?.warn({ host: id, generation, owner: this.#o.leases?.owner, err: err.message }, 'fenced by the BMC: a newer replica claimed this host; stopping the link');
    if (this.#links.get(id) === link) void this.#stopLink(id, link);
    // If this replica still holds the lease, no other replica claimed that generation: the BMC remembers
    // one from before (the host was removed and added again, or the store restored). Move past it.
    const leases = this.#o.leases;
    if (leases && err.current !== undefined && err.current >= generation) {
      void leases
        .raiseGeneration(id, err.current)
        .then((raised) => {
          if (raised === undefined) return;
          this.#o.logger?.warn({ host: id, was: generation, bmc: err.current, now: raised }, "the BMC knew a generation no live lease explains (host re-added or store restored); this replica still holds the lease and claims a newer one");
          this.rebalanceSoon();
        })
        .catch((e: unknown) => this.#o.logger?.warn({ host: id, err: (e as Error).message }, 'could not raise the link lease generation; the next heartbeat tries again'));
    }
  }

  health(hostId: string): LinkHealth | undefined {
    return this.#links.get(hostId)?.health();
  }

  wake(hostId: string): void {
    this.#links.get(hostId)?.wake();
  }

  /** Hosts whose link runs in this process, for tests and operators. */
  runningLinks(): string[] {
    return [...this.#links.keys()].sort();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#fenceTimer) clearInterval(this.#fenceTimer);
    if (this.#healthTimer) clearInterval(this.#healthTimer);
    await this.#housekeeping;
    await this.#expiring;
    await this.#pruning;
    await Promise.all([...[...this.#links].map(([id, l]) => this.#stopLink(id, l)), ...this.#stopping.values()]);
    await this.#o.leases?.releaseAll().catch((err: unknown) => {
      this.#o.logger?.warn({ err: (err as Error).message }, 'could not release the link leases; other replicas take them over when they expire');
    });
  }
}
