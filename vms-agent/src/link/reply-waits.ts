/**
 * Commands whose challenge or result the manager expects soon. Queue 2 has no
 * doorbell on the LAN side, so while any is awaited the link core polls fast
 * (its reply window); a reply, or the window's end, stops that.
 */
export class ReplyWaits {
  /** Command id → the time we stop polling fast for it. */
  readonly #until = new Map<string, number>();

  /** A request or challenge response for `commandId` went out at `nowMs`. */
  expect(commandId: string, untilMs: number): void {
    this.#until.set(commandId, untilMs);
  }

  /** Its reply came; true if it was awaited (the window may end sooner). */
  settle(commandId: string): boolean {
    return this.#until.delete(commandId);
  }

  /** The end of the fast-poll window at `nowMs` (0: none), forgetting waits that ran out. */
  windowEnd(nowMs: number): number {
    let end = 0;
    for (const [id, until] of this.#until) {
      if (until <= nowMs) this.#until.delete(id);
      else end = Math.max(end, until);
    }
    return end;
  }
}
