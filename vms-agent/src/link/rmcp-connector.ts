/** BmcConnector over the project's RMCP+ client (src/rmcp, docs/rmcp.md). */
import { openSession } from '../rmcp/index.js';
import type { BmcConnector, BmcTarget } from './bmc-session.js';

/** Retransmission tuning of the RMCP+ client; unset fields keep its defaults (1000 ms, 3 retries). */
export interface RmcpTuning {
  timeoutMs?: number;
  retries?: number;
}

export function rmcpConnectorWith(tuning: RmcpTuning): BmcConnector {
  return (t: BmcTarget) =>
    openSession({ host: t.host, port: t.port, user: t.user, password: t.password, privilege: t.privilege, cipherSuites: t.cipherSuites, ...tuning });
}

export const rmcpConnector: BmcConnector = rmcpConnectorWith({});
