/**
 * Stock pyghmi (Debian's python3-pyghmi, the IPMI library of OpenStack
 * Ironic and VirtualBMC) as a peer: a client driven through
 * fixtures/pyghmi/probe.py, and pyghmi's own BMC (`fakebmc`) as a server.
 * It runs under Debian's /usr/bin/python3, where the package is installed
 * (a python3 earlier on PATH, a pyenv one say, does not see it).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '../harness/managed-process.js';

export const DEBIAN_PYTHON = '/usr/bin/python3';
const PROBE = fileURLToPath(new URL('../../fixtures/pyghmi/probe.py', import.meta.url));

export function pyghmiAvailable(): boolean {
  return spawnSync(DEBIAN_PYTHON, ['-c', 'import pyghmi.ipmi.command, pyghmi.ipmi.bmc'], { stdio: 'ignore' }).status === 0;
}

export interface ProbeResult {
  login_error?: string;
  privlevel?: number;
  actions: Record<string, { ok?: unknown; error?: string }>;
}

export function pyghmiProbe(port: number, user: string, password: string, actions: string[], timeoutMs = 90_000): ProbeResult {
  const r = spawnSync(DEBIAN_PYTHON, [PROBE, String(port), user, password, ...actions], { encoding: 'utf8', timeout: timeoutMs });
  const line = (r.stdout ?? '').trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as ProbeResult;
  } catch {
    throw new Error(`pyghmi probe printed no JSON (status ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
}

/**
 * pyghmi's example BMC (`fakebmc`: user admin, password "password", cipher
 * suite 3 only) on a UDP port; ready once it answers (the caller probes).
 */
export async function startFakeBmc(port: number): Promise<ManagedProcess> {
  return ManagedProcess.start({ name: 'fakebmc', command: DEBIAN_PYTHON, args: ['-u', '/usr/bin/fakebmc', '--port', String(port)] });
}
