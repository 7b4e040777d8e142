/**
 * The link loop's sleep: a timer that a wake() ends early. A wake() that comes
 * while the loop is busy (not sleeping) is kept, so the next sleep returns at
 * once: work queued during a request is never left for the next poll.
 */
export class WakeableSleep {
  #wakeUp: (() => void) | undefined;
  #wakePending = false;

  /** Sleeps up to `ms`; returns at once if a wake is pending or `stopped`. */
  sleep(ms: number, stopped = false): Promise<void> {
    if (stopped) return Promise.resolve();
    if (this.#wakePending) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // Whichever ends the sleep (the timer or a wake) clears the callback, so a
      // wake() during the next busy stretch sets the pending flag instead of being lost.
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }

  /** Ends the current sleep, or the next one if the loop is busy. */
  wake(): void {
    if (this.#wakeUp) this.#wakeUp();
    else this.#wakePending = true;
  }

  /** Ends the current sleep only (stopping: nothing is left pending). */
  interrupt(): void {
    this.#wakeUp?.();
  }
}
