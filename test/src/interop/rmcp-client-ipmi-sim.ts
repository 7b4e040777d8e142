/**
 * OpenIPMI's ipmi_sim as an RMCP+ peer for the client's interop tests and
 * bench: a lan.conf and an emu file written to a fresh temp dir (state dir
 * included, so nothing touches /var), started by PID, ready once it answers
 * Get Channel Authentication Capabilities, stopped by PID.
 *
 * ipmi_sim implements cipher suites 0..14 (no SHA-256), so the client uses
 * suite 3 against it; it needs an explicit privilege level (RAKP1 role).
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from '../harness/managed-process.js';
import { freeUdpPort } from '../harness/ports.js';

export interface IpmiSim {
  host: string;
  port: number;
  pid: number;
  /** An administrator account. */
  user: string;
  password: string;
  passwordFile: string;
  /** An operator account with the same password. */
  operator: string;
  dir: string;
  stop(): Promise<void>;
}

export function ipmiSimAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v ipmi_sim'], { stdio: 'ignore' }).status === 0;
}

const PASSWORD = 'secret-pw';

function lanConf(port: number): string {
  return `name "backchannel-test"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  user 2 true "admin" "${PASSWORD}" admin 10 none md2 md5 straight
  user 3 true "oper" "${PASSWORD}" operator 10 none md2 md5 straight
`;
}

// Device id 0, revision 3, firmware 9.08, IPMI 2.0, support 0x9f, manufacturer 0x1291, product 0x0f02.
const EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
mc_enable 0x20
`;

/** A pre-session Get Channel Auth Caps in IPMI 1.5 framing (what ipmitool sends first). */
const PROBE = Buffer.from('0600ff07000000000000000000092018c88100388e04b5', 'hex');

/** True once something on 127.0.0.1:`port` answers an IPMI 1.5 Get Channel Auth Caps (ipmi_sim is up). */
export async function answersProbe(port: number, timeoutMs: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.on('error', () => undefined);
      socket.send(PROBE, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

export async function startIpmiSim(): Promise<IpmiSim> {
  const dir = mkdtempSync(join(tmpdir(), 'backchannel-ipmi-sim-'));
  const port = await freeUdpPort();
  writeFileSync(join(dir, 'lan.conf'), lanConf(port));
  writeFileSync(join(dir, 'emu'), EMU);
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const state = join(dir, 'state');
  spawnSync('mkdir', ['-p', state]);
  const proc = await ManagedProcess.start({ name: 'ipmi_sim', command: 'ipmi_sim', args: ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'emu'), '-s', state, '-n'], cwd: dir });
  const deadline = Date.now() + 10_000;
  while (!(await answersProbe(port, 200))) {
    if (proc.exited || Date.now() > deadline) {
      await proc.stop(1000);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`ipmi_sim did not come up on 127.0.0.1:${port}:\n${proc.output.slice(-2000)}`);
    }
  }
  return {
    host: '127.0.0.1',
    port,
    pid: proc.pid,
    user: 'admin',
    password: PASSWORD,
    passwordFile,
    operator: 'oper',
    dir,
    async stop() {
      await proc.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
