/**
 * Opens the store named by the configuration (admin commands and serve use
 * it directly): a postgres:// or postgresql:// URL opens the PostgreSQL
 * store (several replicas share it), anything else is a SQLite file.
 */
import { randomBytes } from 'node:crypto';
import { PostgresStore } from '../store/postgres-store.js';
import { SecretBox, readMasterKeyFile } from '../store/secret-box.js';
import { SqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { CliError, EXIT } from './cli-error.js';
import type { VmsAgentConfig } from './config.js';

export const systemRandom = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The db setting fit for logs and messages: a URL's password is replaced by "***". */
export function redactDb(db: string): string {
  if (!isPostgresUrl(db)) return db;
  try {
    const u = new URL(db);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (/pass/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export async function openLocalStore(config: VmsAgentConfig, options: { applicationName?: string; onError?: (err: Error) => void } = {}): Promise<Store> {
  if (!config.masterKeyFile) {
    throw new CliError(
      EXIT.usage,
      'NO_MASTER_KEY',
      'no master key: pass --master-key-file, set BACKCHANNEL_MASTER_KEY_FILE, or "masterKeyFile" in the config file (create one with: vms-agent keygen --master-key --out FILE)',
    );
  }
  let key: Uint8Array;
  try {
    key = readMasterKeyFile(config.masterKeyFile);
  } catch (err) {
    throw new CliError(EXIT.usage, 'NO_MASTER_KEY', (err as Error).message);
  }
  const secrets = new SecretBox(key, systemRandom);
  if (!isPostgresUrl(config.db)) return new SqliteStore({ path: config.db, secrets });
  try {
    return await PostgresStore.open({ url: config.db, secrets, session: config.postgres, ...options });
  } catch (err) {
    throw new CliError(EXIT.unreachable, 'DB_UNREACHABLE', `cannot open the PostgreSQL store at ${redactDb(config.db)}: ${(err as Error).message}`);
  }
}
