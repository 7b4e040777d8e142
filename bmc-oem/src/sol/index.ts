/** Serial-over-LAN payload server (docs/sol.md). */
export * from './sol-settings.js';
export * from './sol-bridge.js';
export * from './sol-commands.js';
export * from './sol-device.js';
export * from './host-serial.js';
export * from './sol-service.js';
