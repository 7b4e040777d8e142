#!/usr/bin/env node
/**
 * bmc-oem executable: parse flags and config, start the daemon, stop it
 * cleanly on SIGTERM/SIGINT. Exit codes: 0 normal stop or --help,
 * 2 configuration error, 1 failure to start or a fatal error.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config/config-error.js';
import { HELP_TEXT } from './config/cli.js';
import { loadConfig } from './config/load-config.js';
import { createLogger } from './daemon/logger.js';
import { startDaemon } from './daemon/daemon.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

async function main(): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bmc-oem: configuration error: ${err.message}\nTry bmc-oem --help.\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.kind === 'help') {
    process.stdout.write(HELP_TEXT);
    return 0;
  }
  if (loaded.kind === 'version') {
    process.stdout.write(`bmc-oem ${version()}\n`);
    return 0;
  }
  const logger = createLogger(loaded.config.logLevel);
  for (const w of loaded.warnings) logger.warn(w);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  let daemon;
  try {
    daemon = await startDaemon({ config: loaded.config, logger });
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    return 1;
  }
  const running = daemon;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      // A hung close must not keep the process alive past systemd's patience.
      const force = setTimeout(() => resolve(1), 10_000);
      force.unref();
      running.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => {
    process.exitCode = code;
    // Leave time for pino to flush, then make sure nothing keeps us up.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`bmc-oem: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
