/** Runs the stock ipmitool binary (lanplus) against a BMC on 127.0.0.1. */
import { spawnSync } from 'node:child_process';

export interface IpmitoolTarget {
  port: number;
  user: string;
  passwordFile: string;
  cipherSuite: number;
  privilege: 'USER' | 'OPERATOR' | 'ADMINISTRATOR';
}

export interface IpmitoolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function ipmitoolAvailable(): boolean {
  return spawnSync('ipmitool', ['-V'], { stdio: 'ignore' }).status === 0;
}

export function ipmitool(target: IpmitoolTarget, args: string[], timeoutMs = 20_000): IpmitoolResult {
  const result = spawnSync(
    'ipmitool',
    ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(target.port), '-U', target.user, '-f', target.passwordFile,
      '-C', String(target.cipherSuite), '-L', target.privilege, '-N', '1', '-R', '3', ...args],
    { encoding: 'utf8', timeout: timeoutMs },
  );
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Parses `ipmitool raw` output ("0a 0b\n 0c") into bytes. */
export function parseRawOutput(stdout: string): number[] {
  return stdout
    .split(/\s+/)
    .filter((t) => /^[0-9a-fA-F]{2}$/.test(t))
    .map((t) => Number.parseInt(t, 16));
}
