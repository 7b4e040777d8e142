export * from './backoff.js';
export * from './poll-schedule.js';
export * from './queue-hop.js';
export * from './queue-client.js';
