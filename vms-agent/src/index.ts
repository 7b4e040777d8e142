/** @backchannel/vms-agent library exports (the executable is main.ts). */
export * from './errors.js';
export * from './store/store.js';
export * from './store/secret-box.js';
export * from './store/sqlite-store.js';
export * from './commands/lifecycle.js';
export * from './commands/command-service.js';
export * from './api/app.js';
export * from './api/auth.js';
export * from './api/metrics.js';
export * from './link/bmc-session.js';
export * from './link/host-link.js';
export * from './link/link-manager.js';
export * from './link/oem-queue-client.js';
export * from './keys/enrollment.js';
export * from './keys/service-key.js';
