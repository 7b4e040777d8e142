/**
 * A password held in memory. It never serialises: JSON.stringify, pino and
 * util.inspect all see "[redacted]", so a config object can be logged
 * whole without leaking it.
 */
import { inspect } from 'node:util';

export class Secret {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = Uint8Array.from(bytes);
  }

  /** A copy of the secret bytes, for the key derivation that needs them. */
  reveal(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  get length(): number {
    return this.#bytes.length;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
