import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretBox } from '../../src/store/secret-box.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { HostInput } from '../../src/store/store.js';

export const rng = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

/** A real SQLite file in a fresh temp dir; `reopen` closes and opens the same file again. */
export function tempStore(masterKey: Uint8Array = rng(32)) {
  const dir = mkdtempSync(join(tmpdir(), 'vms-agent-store-'));
  const path = join(dir, 'vms-agent.db');
  const box = new SecretBox(masterKey, rng);
  let store = new SqliteStore({ path, secrets: box });
  return {
    dir,
    path,
    masterKey,
    get store() {
      return store;
    },
    async reopen(): Promise<SqliteStore> {
      await store.close();
      store = new SqliteStore({ path, secrets: box });
      return store;
    },
    async cleanup(): Promise<void> {
      // The dir goes even if close throws, so a failing store does not leave it in /tmp.
      try {
        await store.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function hostInput(id: string, overrides: Partial<HostInput> = {}): HostInput {
  return {
    id,
    bmcAddress: '127.0.0.1',
    bmcPort: 9623,
    bmcUser: 'oper',
    bmcPassword: 'secret-password',
    bmcPrivilege: 'operator',
    cipherSuites: [17, 3],
    iana: 32473,
    seed: new Uint8Array(32).fill(7),
    ...overrides,
  };
}
