/**
 * `command`: host power through configured programs, like ipmi_sim's
 * chassis_control. Chassis Control runs `CONTROL... ACTION` with ACTION one
 * of on|off|cycle|reset|diag|soft (the boot device, when one is set, in
 * BMC_BOOT_DEVICE / BMC_BOOT_PERSISTENT / BMC_BOOT_EFI); with `identify`,
 * Chassis Identify runs `CONTROL... identify` with BMC_IDENTIFY=SECONDS,
 * `force` or 0 (off), and its outcome is only logged; Get Chassis Status
 * runs `STATUS...` and reads the first word of its output: on/1/true or
 * off/0/false (ipmi_sim's `power:1` / `power:0` is accepted too).
 *
 * A Chassis Control answer cannot wait for a slow press (a forced off holds
 * the button for seconds, longer than an IPMI client waits), so control waits
 * at most `ackWaitMs`: a program that fails within that time makes the
 * request fail (cc 0xFF, logged); one still running then is reported as
 * started and its outcome is logged. One action runs at a time.
 */
import type { ChassisControlAction, HostPowerBackend, HostPowerControlResult, HostPowerStatus } from '../commands/host-power-port.js';
import { commandWords, HostPowerError, runProgram } from './run-program.js';

export interface CommandBackendLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CommandBackendOptions {
  /** Program (and fixed arguments) that switches power; the action is appended. */
  controlCommand: string | readonly string[];
  /** Program (and fixed arguments) that prints the power state. */
  statusCommand?: string | readonly string[];
  /** Kill a control program after this long (default 30 s). */
  controlTimeoutMs?: number;
  /** Kill a status program after this long (default 3 s). */
  statusTimeoutMs?: number;
  /** How long Chassis Control waits for the program before answering "started" (default 1 s). */
  ackWaitMs?: number;
  /** Actions the program understands (default all six: on, off, cycle, reset, diag, soft). */
  actions?: readonly ChassisControlAction[];
  /** Pass Chassis Identify to the program as `identify` (default off). */
  identify?: boolean;
  logger?: CommandBackendLogger;
}

const DEFAULT_ACTIONS: readonly ChassisControlAction[] = ['on', 'off', 'cycle', 'reset', 'diag', 'soft'];

export function parsePowerState(output: string): boolean {
  const word = (output.trim().split(/\s+/)[0] ?? '').toLowerCase();
  if (['on', '1', 'true', 'power:1'].includes(word)) return true;
  if (['off', '0', 'false', 'power:0'].includes(word)) return false;
  throw new HostPowerError('bad-output', `power status program printed "${output.trim().slice(0, 80)}", expected on or off`);
}

export class CommandBackend implements HostPowerBackend {
  readonly kind = 'command';
  readonly #control: string[];
  readonly #status: string[] | undefined;
  readonly #controlTimeout: number;
  readonly #statusTimeout: number;
  readonly #ackWait: number;
  readonly #actions: ReadonlySet<ChassisControlAction>;
  readonly #logger: CommandBackendLogger | undefined;
  readonly #identify: boolean;
  #running: Promise<unknown> | undefined;

  constructor(o: CommandBackendOptions) {
    this.#control = commandWords(o.controlCommand);
    if (this.#control.length === 0) throw new RangeError('host power "command" backend needs a control command');
    this.#status = o.statusCommand === undefined ? undefined : commandWords(o.statusCommand);
    this.#controlTimeout = o.controlTimeoutMs ?? 30_000;
    this.#statusTimeout = o.statusTimeoutMs ?? 3_000;
    this.#ackWait = Math.min(o.ackWaitMs ?? 1_000, this.#controlTimeout);
    this.#actions = new Set(o.actions ?? DEFAULT_ACTIONS);
    this.#logger = o.logger;
    this.#identify = o.identify === true;
  }

  async identify(how: number | 'forced'): Promise<void> {
    if (!this.#identify) return;
    try {
      await runProgram([...this.#control, 'identify'], this.#controlTimeout, { BMC_IDENTIFY: how === 'forced' ? 'force' : String(how) });
    } catch (err) {
      this.#logger?.error({ err: (err as Error).message }, 'chassis identify program failed');
    }
  }

  /** Resolves when the action in progress (if any) has finished; for shutdown and tests. */
  async idle(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }

  async status(): Promise<HostPowerStatus | undefined> {
    if (this.#status === undefined) return undefined;
    const { stdout } = await runProgram(this.#status, this.#statusTimeout);
    return { powerOn: parsePowerState(stdout) };
  }

  async control(action: ChassisControlAction, env?: Readonly<Record<string, string>>): Promise<HostPowerControlResult> {
    if (!this.#actions.has(action)) return 'unsupported';
    if (this.#running !== undefined) throw new HostPowerError('busy', `power action refused: an earlier one is still running ("${this.#control.join(' ')}")`);
    const argv = [...this.#control, action];
    const run = runProgram(argv, this.#controlTimeout, env).then(
      () => this.#logger?.info({ action }, 'host power action finished'),
      (err: unknown) => {
        this.#logger?.error({ action, err: (err as Error).message }, 'host power action failed');
        throw err;
      },
    );
    const tracked = run.finally(() => {
      if (this.#running === tracked) this.#running = undefined;
    });
    this.#running = tracked;
    tracked.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'running'>((resolve) => {
      timer = setTimeout(() => resolve('running'), this.#ackWait);
    });
    try {
      // A quick failure (missing program, bad exit) fails the request; a slow program is reported as started.
      await Promise.race([run, waited]);
    } finally {
      clearTimeout(timer);
    }
    return 'done';
  }
}
