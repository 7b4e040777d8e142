/**
 * @backchannel/bmc-oem library exports: the command table other parts of
 * the BMC register into, the standard commands, config loading, the RMCP+
 * server and the daemon composition. `main.ts` is the executable.
 */
export * from './commands/index.js';
export * from './config/index.js';
export * from './rmcp/index.js';
export * from './daemon/index.js';
export * from './metrics.js';
