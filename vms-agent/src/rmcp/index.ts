/** RMCP+ (IPMI v2.0 lanplus) client: see docs/rmcp.md. */
export { openSession, DEFAULT_CIPHER_SUITES, type OpenSessionOptions } from './open-session.js';
export { RmcpSession, type IpmiResponse, type RmcpSessionInfo } from './session.js';
export { RmcpError, isRmcpError, type RmcpErrorCode, RmcpAuthError, isRmcpAuthError, type RmcpAuthFailureKind, type RmcpAuthErrorOptions } from './errors.js';
export { refusalError } from './auth-failure.js';
export { SessionState, MAX_IN_FLIGHT, type SessionCounters } from './session-state.js';
export { type Clock, systemClock } from './clock.js';
export { SolConsole, SolError, type SolConsoleOptions, type SolSessionPort } from './sol-console.js';
export { SolTunnel, type SolTunnelOptions } from './sol-tunnel.js';
export { solConnectorWith, transportConnector, type SolTuning } from './sol-connector.js';
