/**
 * How `vms-agent serve` stops: the first SIGTERM/SIGINT starts a graceful
 * shutdown (API closed, links stopped and their leases released, store
 * closed); if that has not finished within the grace period, or a second
 * signal arrives, the process exits at once with code 1 so that systemd
 * (TimeoutStopSec) or an operator's Ctrl-C never waits on a hung close.
 * Nothing is lost by that exit: every accepted command is in the store
 * before the API answers, and a link resumes from the store at the next start.
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface StopSignalOptions {
  graceMs?: number;
  onSignal: (signal: string) => void;
  onForced: (reason: string) => void;
  /** Injected in tests; process.exit otherwise. */
  exit?: (code: number) => void;
}

/** Resolves at the first SIGTERM/SIGINT; from then on a grace timer (and a second signal) force the exit. */
export function stopSignal(options: StopSignalOptions): Promise<string> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const graceMs = options.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  return new Promise<string>((resolve) => {
    let first: string | undefined;
    const onSignal = (signal: string): void => {
      if (first) {
        options.onForced(`${signal} during shutdown`);
        exit(1);
        return;
      }
      first = signal;
      options.onSignal(signal);
      const timer = setTimeout(() => {
        options.onForced(`shutdown took longer than ${graceMs} ms`);
        exit(1);
      }, graceMs);
      timer.unref();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
