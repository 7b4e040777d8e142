export * from './outbound.js';
export * from './inbound.js';
export * from './ack-holes.js';
export * from './clock-offset.js';
