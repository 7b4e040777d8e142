export * from './config-error.js';
export * from './schema.js';
export * from './secret.js';
export * from './address.js';
export * from './config-types.js';
export * from './cli.js';
export * from './validate.js';
export * from './load-config.js';
