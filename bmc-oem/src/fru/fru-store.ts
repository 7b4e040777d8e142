/**
 * FRU device 0, the BMC's own inventory: FRU_SIZE bytes whose start is the
 * image built from the config, until an administrator writes it (Write FRU
 * Data); a written image is kept in `fru.json` and wins from then on, the
 * way a written EEPROM would. Delete the file to go back to the config.
 */
import type { FruConfig } from '../config/config-types.js';
import { expectHex, expectObject, JsonStateFile } from '../state/state-file.js';
import { encodeFruImage } from './fru-area.js';

export const FRU_SIZE = 512;
export const FRU_FILE = 'fru.json';

interface StoredFru {
  version: 1;
  image: string;
}

function validate(raw: unknown): StoredFru {
  const o = expectObject(raw, 'fru.json');
  if (o.version !== 1) throw new Error('expected "version": 1');
  const image = expectHex(o.image, 'image', FRU_SIZE);
  if (image.length !== FRU_SIZE) throw new Error(`image must be ${FRU_SIZE} bytes`);
  return { version: 1, image: Buffer.from(image).toString('hex') };
}

export class FruStore {
  readonly #file: JsonStateFile<StoredFru>;
  readonly #image = new Uint8Array(FRU_SIZE);

  constructor(o: { fru: FruConfig; stateDir?: string }) {
    this.#file = new JsonStateFile(o.stateDir, FRU_FILE, validate);
    const stored = this.#file.load();
    if (stored !== undefined) this.#image.set(Buffer.from(stored.image, 'hex'));
    else {
      const built = encodeFruImage(o.fru);
      if (built.length > FRU_SIZE) throw new RangeError(`FRU image of ${built.length} bytes does not fit ${FRU_SIZE}`);
      this.#image.set(built);
    }
  }

  get size(): number {
    return FRU_SIZE;
  }

  read(offset: number, count: number): Uint8Array {
    return this.#image.slice(offset, Math.min(FRU_SIZE, offset + count));
  }

  /** Writes bytes at `offset` (clipped to the device) and keeps the image; returns how many were written. */
  write(offset: number, bytes: Uint8Array): number {
    const n = Math.max(0, Math.min(bytes.length, FRU_SIZE - offset));
    const before = this.#image.slice(offset, offset + n);
    this.#image.set(bytes.subarray(0, n), offset);
    try {
      this.#file.save({ version: 1, image: Buffer.from(this.#image).toString('hex') });
    } catch (err) {
      this.#image.set(before, offset);
      throw err;
    }
    return n;
  }
}
