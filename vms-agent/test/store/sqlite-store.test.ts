import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretBox } from '../../src/store/secret-box.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { rng, tempStore } from '../helpers/temp-store.js';
import { storeContract } from './store-contract.js';

storeContract(
  'SqliteStore',
  async () => {
    const t = tempStore();
    return {
      get store() {
        return t.store;
      },
      reopen: () => t.reopen(),
      openWithKey: async (key) => new SqliteStore({ path: t.path, secrets: new SecretBox(key, rng) }),
      // The database file and its WAL (committed transactions live there until a checkpoint).
      containsAtRest: async (needle) => readdirSync(t.dir).some((f) => readFileSync(join(t.dir, f)).includes(needle)),
      migrationsApplied: async () => t.store.migrationsApplied(),
      cleanup: () => t.cleanup(),
    };
  },
  { migrations: [1] },
);
