/** pino with secrets redacted: tokens, passwords, seeds, keys never reach a log line. */
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  '*.password',
  '*.bmcPassword',
  '*.seed',
  '*.secretKey',
  '*.token',
  'password',
  'seed',
  'token',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination as pino.DestinationStream | undefined);
}
