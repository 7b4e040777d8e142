/** node:util parseArgs with the flags every command accepts, and errors as usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usage } from './cli-error.js';
import { type ConfigFlags, loadConfig, type VmsAgentConfig } from './config.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  config: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  db: { type: 'string' },
  'master-key-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const COMMON_HELP = `Common options:
  --config FILE           JSON config file (default ~/.config/backchannel/vms-agent.json)
  --url URL               vms-agent API (env BACKCHANNEL_URL, default http://127.0.0.1:8480)
  --token TOKEN           API bearer token (env BACKCHANNEL_TOKEN)
  --db FILE|URL           store: SQLite file, or postgres://USER:PASS@HOST/DB shared by several
                          serve replicas (env BACKCHANNEL_DB, default ./vms-agent.db)
  --master-key-file FILE  key that encrypts secrets in the store (env BACKCHANNEL_MASTER_KEY_FILE)
  --json                  machine-readable output`;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  config: () => Readonly<VmsAgentConfig>;
  json: boolean;
  help: boolean;
}

export function parse(argv: string[], options: Options = {}): Parsed {
  let result;
  try {
    result = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage((err as Error).message);
  }
  const values = result.values as Parsed['values'];
  return {
    values,
    positionals: result.positionals,
    config: () => loadConfig(values as ConfigFlags),
    json: values.json === true,
    help: values.help === true,
  };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function need(p: Parsed, index: number, what: string): string {
  const v = p.positionals[index];
  if (!v) throw usage(`missing ${what}`);
  return v;
}

export function required(p: Parsed, name: string, message: string): string {
  const v = str(p, name);
  if (v === undefined) throw usage(message);
  return v;
}
