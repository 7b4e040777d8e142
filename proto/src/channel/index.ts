export * from './outbound.js';
export * from './inbound.js';
