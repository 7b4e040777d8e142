/**
 * Producer generations on the BMC (docs/bmc-queues.md "Producer
 * generation"): the fencing token of the manager replica that holds a
 * host's link lease. Pure state, no IO.
 *
 * - `current` is the highest generation any LAN session has claimed
 *   (0: nobody has claimed; then nothing is fenced, as before this
 *   command existed, so stock tools keep working).
 * - A session that claims `g >= current` is bound to `g` and `current`
 *   becomes `g`; a claim below `current` is refused.
 * - Once `current > 0`, Put Record and Get Record are admitted only from
 *   sessions bound to `current`: an older replica's session (bound to an
 *   older generation) or an unbound one is refused. So from the moment
 *   the new owner's claim is answered, nothing the old owner sends can
 *   change a queue.
 *
 * The bindings are kept for at most `maxSessions` sessions (oldest first
 * out): more than the session table holds, so a live session is never
 * forgotten; a forgotten one would merely be refused and claim again.
 * Generations live in memory: after a BMC restart the first claim sets
 * the bar again (the restart drew new queue epochs, and the lease holder
 * claims again as it reconnects).
 */
export class ProducerFence {
  #current = 0;
  readonly #bound = new Map<string, number>();
  readonly #maxSessions: number;

  constructor(maxSessions = 256) {
    this.#maxSessions = maxSessions;
  }

  get current(): number {
    return this.#current;
  }

  /** Binds `session` to `generation` if it is not older than the current one; false if it is. */
  claim(session: string, generation: number): boolean {
    if (generation < this.#current) return false;
    this.#current = generation;
    this.#bound.delete(session);
    this.#bound.set(session, generation);
    while (this.#bound.size > this.#maxSessions) this.#bound.delete(this.#bound.keys().next().value!);
    return true;
  }

  /** Whether a LAN session may Put or Get Record now. */
  admits(session: string | undefined): boolean {
    if (this.#current === 0) return true;
    return session !== undefined && this.#bound.get(session) === this.#current;
  }
}
