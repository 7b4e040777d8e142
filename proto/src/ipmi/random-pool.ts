/**
 * A RandomBytes that draws from its source in large blocks and hands them
 * out in small pieces. Every sealed RMCP+ packet needs a fresh 16-byte IV;
 * asking the operating system's generator for 16 bytes at a time costs more
 * than the AES that uses them. The bytes are the source's own, each handed
 * out once, so the IVs stay exactly as unpredictable as the source.
 */
import type { RandomBytes } from '../bytes.js';
import { WireError } from '../errors.js';

export const DEFAULT_RANDOM_POOL_BYTES = 4096;

export function pooledRandomBytes(source: RandomBytes, poolBytes = DEFAULT_RANDOM_POOL_BYTES): RandomBytes {
  if (!Number.isInteger(poolBytes) || poolBytes < 64) throw new RangeError('random pool must be at least 64 bytes');
  // Large requests go straight to the source, so one never drains the pool.
  const largest = poolBytes >>> 3;
  let pool: Uint8Array = new Uint8Array(0);
  let at = 0;
  return (n: number): Uint8Array => {
    if (n > largest) return source(n);
    if (at + n > pool.length) {
      pool = source(poolBytes);
      if (pool.length !== poolBytes) throw new WireError('ERR_BAD_FIELD', 'randomBytes returned the wrong length');
      at = 0;
    }
    const out = pool.subarray(at, at + n);
    at += n;
    return out;
  };
}
