#!/usr/bin/env node
/**
 * The vms-agent executable: one dispatcher over the subcommands. Errors
 * become one line on stderr and a meaningful exit code (cli/cli-error.ts).
 */
import { isWireError } from '@backchannel/proto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alerts, approve, commands, vm } from './cli/api-commands.js';
import { principals, tokens } from './cli/access-commands.js';
import { hosts, keygen } from './cli/admin-commands.js';
import { runBmcCommand } from './cli/bmc-command.js';
import { CliError, EXIT } from './cli/cli-error.js';
import { HELP } from './cli/help.js';
import { hostsStatus } from './cli/hosts-status.js';
import { queueInfo } from './cli/queue-info.js';
import { serve } from './cli/serve.js';
import { VERSION } from './version.js';

type Handler = (argv: string[]) => Promise<number>;

/** `bmc info|raw` are the RMCP+ client's diagnostics (cli/bmc-command.ts); `bmc queue-info` goes through a configured host. */
async function bmc(argv: string[]): Promise<number> {
  if (argv[0] === 'queue-info') return queueInfo(argv.slice(1));
  return runBmcCommand(argv);
}

/** `hosts status` asks the running service (cli/hosts-status.ts); the other `hosts` commands work on the local store. */
async function hostsCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'status') return hostsStatus(argv.slice(1));
  return hosts(argv);
}

const COMMANDS: Record<string, Handler> = { serve, keygen, hosts: hostsCommand, principals, tokens, vm, commands, approve, alerts, bmc };

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const handler = COMMANDS[name];
  if (!handler) {
    process.stderr.write(`vms-agent: unknown command "${name}"; see vms-agent --help\n`);
    return EXIT.usage;
  }
  if ((rest.includes('--help') || rest.includes('-h')) && name !== 'bmc') {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  try {
    return await handler(rest);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`vms-agent: ${err.message}\n`);
      return err.exitCode;
    }
    if (isWireError(err, 'ERR_KEY_MALFORMED')) {
      process.stderr.write(`vms-agent: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`vms-agent: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

if (invokedDirectly()) process.exitCode = await main(process.argv.slice(2));
