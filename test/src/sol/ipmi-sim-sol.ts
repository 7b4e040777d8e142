/**
 * OpenIPMI's ipmi_sim as a stock BMC with Serial-over-LAN: its lan.conf
 * names the host serial port as `sol "tcp:127.0.0.1:PORT" 115200` (ipmi_sim
 * connects there, see `man ipmi_lan`), cipher suites up to 3 (it has no
 * SHA-256), explicit privileges. Users: `oper` (operator) and `admin`
 * (administrator, for `sol deactivate` from outside). Started and stopped by PID.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess } from '../harness/managed-process.js';
import { answersProbe } from '../interop/rmcp-client-ipmi-sim.js';
import { freeUdpPort } from '../harness/ports.js';

export interface IpmiSimSol {
  port: number;
  proc: ManagedProcess;
  dir: string;
  adminPasswordFile: string;
  stop(): Promise<void>;
}

export async function startIpmiSimSol(o: { solPort: number; operPassword: string; adminPassword?: string; baud?: number }): Promise<IpmiSimSol> {
  const dir = mkdtempSync(join(tmpdir(), 'ipmi-sim-sol-'));
  const port = await freeUdpPort();
  const admin = o.adminPassword ?? 'admin-secret';
  writeFileSync(
    join(dir, 'lan.conf'),
    `name "backchannel-sol"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcd05
  endlan
  sol "tcp:127.0.0.1:${o.solPort}" ${o.baud ?? 115200}
  user 2 true "admin" "${admin}" admin 10 none md2 md5 straight
  user 3 true "oper" "${o.operPassword}" operator 10 none md2 md5 straight
`,
  );
  writeFileSync(join(dir, 'emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n');
  const adminPasswordFile = join(dir, 'admin.pw');
  writeFileSync(adminPasswordFile, `${admin}\n`, { mode: 0o600 });
  mkdirSync(join(dir, 'state'));
  const proc = await ManagedProcess.start({ name: 'ipmi_sim', command: 'ipmi_sim', args: ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'emu'), '-s', join(dir, 'state'), '-n'], cwd: dir });
  const deadline = Date.now() + 10_000;
  while (!(await answersProbe(port, 200))) {
    if (proc.exited || Date.now() > deadline) {
      await proc.stop(1000);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`ipmi_sim did not come up on 127.0.0.1:${port}:\n${proc.output.slice(-2000)}`);
    }
  }
  return {
    port,
    proc,
    dir,
    adminPasswordFile,
    async stop() {
      await proc.stop(2000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
