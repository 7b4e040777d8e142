/** Opens the store named by the configuration (admin commands and serve use it directly). */
import { randomBytes } from 'node:crypto';
import { SecretBox, readMasterKeyFile } from '../store/secret-box.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { CliError, EXIT } from './cli-error.js';
import type { VmsAgentConfig } from './config.js';

export const systemRandom = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export function openLocalStore(config: VmsAgentConfig): SqliteStore {
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
  return new SqliteStore({ path: config.db, secrets: new SecretBox(key, systemRandom) });
}
