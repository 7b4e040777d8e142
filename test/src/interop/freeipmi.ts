/** Runs stock FreeIPMI tools (IPMI 2.0 over LAN) against a BMC on 127.0.0.1. */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

export interface FreeIpmiTarget {
  port: number;
  user: string;
  password: string;
  privilege: 'USER' | 'OPERATOR' | 'ADMIN';
  cipherSuite: number;
  /** FreeIPMI caches SDRs under $HOME by default; tests keep them in their own directory. */
  sdrCacheDir: string;
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function freeipmiAvailable(): boolean {
  return spawnSync('bmc-info', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Tools that read SDRs (and so take --sdr-cache-directory). */
const SDR_TOOLS = new Set(['ipmi-sel', 'ipmi-sensors', 'ipmi-fru', 'ipmi-config', 'bmc-device']);

export function freeipmi(tool: string, t: FreeIpmiTarget, args: string[] = [], timeoutMs = 60_000): ToolResult {
  // FreeIPMI wants the cache directory to exist and be private.
  if (SDR_TOOLS.has(tool)) mkdirSync(t.sdrCacheDir, { recursive: true, mode: 0o700 });
  const r = spawnSync(
    tool,
    ['-D', 'LAN_2_0', '-h', `127.0.0.1:${t.port}`, '-u', t.user, '-p', t.password, '-l', t.privilege, '-I', String(t.cipherSuite),
      '--session-timeout', '5000', '--retransmission-timeout', '1000', ...(SDR_TOOLS.has(tool) ? ['--sdr-cache-directory', t.sdrCacheDir] : []), ...args],
    { encoding: 'utf8', timeout: timeoutMs },
  );
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
