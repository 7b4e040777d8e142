export * from './daemon.js';
export * from './logger.js';
export * from './device-guid.js';
export * from './rmcp-observer.js';
