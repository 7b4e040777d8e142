export * from './sequence-window.js';
export * from './rakp-lockout.js';
export * from './session-table.js';
export * from './rmcp-events.js';
export * from './handshake.js';
export * from './rmcp-server.js';
export * from './udp-transport.js';
