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
// The other parts of the BMC, by name (their modules define helpers whose
// names would clash in a wildcard export).
export { QueueEngine, type QueueEngineOptions, type QueueSide } from './queues/queue-engine.js';
export { FileQueueStore } from './queues/file-queue-store.js';
export { registerQueueCommands } from './queues/register-queue-commands.js';
export { SystemInterface } from './system-interface/system-interface.js';
export { HostInterfaceState } from './system-interface/host-interface-state.js';
export { registerSystemInterfaceCommands } from './system-interface/kcs-commands.js';
export { createHostPowerBackend, type HostPowerSettings } from './host-power/create-host-power.js';
