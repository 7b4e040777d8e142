/** OEM buffer-queue command codecs (PROTOCOL.md §2). */
export * from './constants.js';
export * from './iana.js';
export * from './queue-requests.js';
export * from './queue-responses.js';
export * from './producer-generation.js';
