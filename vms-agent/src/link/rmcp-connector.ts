/** BmcConnector over the project's RMCP+ client (src/rmcp, docs/rmcp.md). */
import { openSession } from '../rmcp/index.js';
import type { BmcConnector, BmcTarget } from './bmc-session.js';

export const rmcpConnector: BmcConnector = (t: BmcTarget) =>
  openSession({ host: t.host, port: t.port, user: t.user, password: t.password, privilege: t.privilege, cipherSuites: t.cipherSuites });
