/**
 * The secret columns of both stores (SQLite and PostgreSQL): which label
 * each is sealed under, so a ciphertext moved to another row or column
 * fails to open, and the sealing and opening around the SecretBox.
 */
import type { SecretBox } from './secret-box.js';
import type { HostRow } from './sqlite-rows.js';
import type { HostInput, HostSecrets } from './store.js';

const label = {
  bmcPassword: (host: string) => `bmc-password\0${host}`,
  seed: (host: string) => `host-seed\0${host}`,
  principalKey: (name: string) => `principal-secret-key\0${name}`,
  serviceKey: 'service-secret-key',
};

export class SealedSecrets {
  readonly #box: SecretBox;

  constructor(box: SecretBox) {
    this.#box = box;
  }

  /** The `bmc_password_enc` and `seed_enc` columns of a new host. */
  sealHost(h: HostInput): { bmcPasswordEnc: Uint8Array; seedEnc: Uint8Array } {
    return { bmcPasswordEnc: this.#box.seal(Buffer.from(h.bmcPassword, 'utf8'), label.bmcPassword(h.id)), seedEnc: this.#box.seal(h.seed, label.seed(h.id)) };
  }

  openHost(id: string, row: Pick<HostRow, 'bmc_password_enc' | 'seed_enc'>): HostSecrets {
    return {
      bmcPassword: Buffer.from(this.#box.open(row.bmc_password_enc, label.bmcPassword(id))).toString('utf8'),
      seed: this.#box.open(row.seed_enc, label.seed(id)),
    };
  }

  sealPrincipalKey(name: string, secretKey: Uint8Array): Uint8Array {
    return this.#box.seal(secretKey, label.principalKey(name));
  }

  openPrincipalKey(name: string, sealed: Uint8Array): Uint8Array {
    return this.#box.open(sealed, label.principalKey(name));
  }

  sealServiceKey(key: Uint8Array): Uint8Array {
    return this.#box.seal(key, label.serviceKey);
  }

  openServiceKey(sealed: Uint8Array): Uint8Array {
    return this.#box.open(sealed, label.serviceKey);
  }
}
