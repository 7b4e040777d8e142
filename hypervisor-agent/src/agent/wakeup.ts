/** An interruptible sleep: `wait(ms)` resolves after `ms` or as soon as `wake()` is called. */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  wake(): void {
    if (this.#resolve) {
      const resolve = this.#resolve;
      this.#clear();
      resolve();
    } else {
      this.#pending = true; // a wake that arrives while busy cancels the next wait
    }
  }

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => {
        this.#clear();
        resolve();
      }, Math.max(0, ms));
    });
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#resolve = undefined;
  }
}
