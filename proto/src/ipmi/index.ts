/**
 * IPMI v2.0 / RMCP+ codecs and session crypto (pure). See docs/rmcp.md for
 * the byte layouts; each file covers one message or one algorithm.
 */
export * from './netfn.js';
export * from './privilege.js';
export * from './completion-codes.js';
export * from './payload-type.js';
export * from './status-codes.js';
export * from './algorithms.js';
export * from './rmcp-header.js';
export * from './asf-presence.js';
export * from './session-v15.js';
export * from './session-v20.js';
export * from './datagram.js';
export * from './lan-message.js';
export * from './open-session.js';
export * from './rakp-messages.js';
export * from './rakp-auth.js';
export * from './integrity.js';
export * from './confidentiality.js';
export * from './session-crypto.js';
export * from './random-pool.js';
export * from './cipher-suites.js';
export * from './channel-auth-capabilities.js';
export * from './channel-cipher-suites.js';
export * from './session-commands.js';
export * from './device-id.js';
export * from './chassis-status.js';
export * from './deviations.js';
export * from './sol-payload.js';
export * from './sol-commands.js';
export * from './sol-endpoint.js';
