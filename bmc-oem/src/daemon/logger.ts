/**
 * pino logger of the daemon. Passwords are held as Secret (which never
 * serialises); the redact paths are a second line of defence for anything
 * password- or key-shaped that ends up in a log object by mistake.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config-types.js';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'users[*].password',
  '*.users[*].password',
  'kuid',
  'sik',
  'k1',
  'k2',
  '*.sik',
  '*.k1',
  '*.k2',
  'keys',
  '*.keys',
];

export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'bmc-oem' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination === undefined ? pino(options) : pino(options, destination);
}
