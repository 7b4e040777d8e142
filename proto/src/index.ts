/**
 * @backchannel/proto: everything on the wire, pure. No sockets, timers,
 * files, environment or logging; time and randomness come in as arguments.
 */
export * from './errors.js';
export * from './bytes.js';
export * from './messages/schema.js';
export * from './envelope/key-schedule.js';
export * from './envelope/envelope.js';
export * from './envelope/replay-window.js';
export * from './signing/keys.js';
export * from './signing/canonical.js';
export * from './signing/sign.js';
export * from './fragments/fragment.js';
export * from './channel/index.js';
export * from './link/index.js';
export * from './ipmi/index.js';
export * from './oem/index.js';
export * from './vm-serial/index.js';
export * from './serial-framing/index.js';
