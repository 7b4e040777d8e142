/** pino logger with secrets redacted wherever they might be passed in. */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = ['seed', '*.seed', 'secretKey', '*.secretKey', 'hostKey', '*.hostKey', 'key', '*.key', 'password', '*.password', 'signature', '*.signature', 'nonce', '*.nonce'];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { svc: 'hypervisor-agent' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
