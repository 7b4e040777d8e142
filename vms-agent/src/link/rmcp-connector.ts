/**
 * BmcConnector over the project's RMCP+ client (src/rmcp, its own work
 * item). Loaded at run time so this module builds while that client is
 * being written; the call shape is `openSession({host, port, user,
 * password, privilege, cipherSuites})`.
 */
import type { BmcConnector, BmcSession, BmcTarget } from './bmc-session.js';

interface RmcpModule {
  openSession(options: { host: string; port: number; user: string; password: string; privilege: string; cipherSuites: number[] }): Promise<BmcSession>;
}

const RMCP_MODULE = '../rmcp/index.js';

export async function loadRmcpConnector(): Promise<BmcConnector> {
  let mod: RmcpModule;
  try {
    mod = (await import(RMCP_MODULE)) as RmcpModule;
  } catch (err) {
    throw new Error(`the RMCP+ client (vms-agent/src/rmcp) is not available in this build: ${(err as Error).message}`);
  }
  return (t: BmcTarget) => mod.openSession({ host: t.host, port: t.port, user: t.user, password: t.password, privilege: t.privilege, cipherSuites: t.cipherSuites });
}
