/**
 * A host-power program for bmc-oem's `command` backend, standing in for a
 * board's GPIO script (docs/bmc-oem.md): it keeps the power state in a
 * file, prints it for `status`, and logs every action with the boot device
 * bmc-oem passed in its environment.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PowerProgram {
  /** The control program (the action is appended). */
  control: string;
  /** The status command line. */
  status: string;
  /** "ACTION BOOT_DEVICE" per control run ("-" when no boot device was given). */
  actions(): string[];
}

export function writePowerProgram(dir: string): PowerProgram {
  const state = join(dir, 'power.state');
  const log = join(dir, 'power.log');
  const control = join(dir, 'power-program');
  writeFileSync(state, 'off\n');
  writeFileSync(
    control,
    `#!/bin/sh
case "$1" in
  status) cat ${state}; exit 0 ;;
  on|cycle|reset) echo on > ${state} ;;
  off|soft) echo off > ${state} ;;
  diag) ;;
  *) echo "unknown action $1" >&2; exit 2 ;;
esac
echo "$1 \${BMC_BOOT_DEVICE:--}" >> ${log}
`,
  );
  chmodSync(control, 0o755);
  return { control, status: `${control} status`, actions: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

/** The bmc-oem flags that use it. */
export function powerProgramArgs(p: PowerProgram): string[] {
  return ['--host-power', 'command', '--power-command', p.control, '--power-status-command', p.status];
}
