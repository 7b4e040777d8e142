/** OpenIPMI "VM" serial protocol codec (PROTOCOL.md §4). */
export * from './constants.js';
export * from './escape.js';
export * from './messages.js';
export * from './control.js';
export * from './stream-decoder.js';
