/** Byte-stream framing for the channel over a serial line or SOL (docs/sol.md). */
export * from './crc32.js';
export * from './cobs.js';
export * from './frame.js';
export * from './tunnel-messages.js';
