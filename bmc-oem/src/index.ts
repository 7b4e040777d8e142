/**
 * @backchannel/bmc-oem library exports: the command table other parts of
 * the BMC register into, the standard commands, the RMCP+ server and the
 * daemon composition. `main.ts` is the executable.
 */
export * from './commands/index.js';
