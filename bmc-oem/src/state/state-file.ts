/**
 * One JSON document in the state directory, written atomically: a
 * temporary file created 0600, fsynced, renamed over the old one, and the
 * directory fsynced, so a crash leaves either the old document or the new
 * one, never half of each. Without a state directory the document lives
 * only in memory (load finds nothing, save does nothing).
 *
 * A document that cannot be read or does not pass `validate` stops the
 * daemon with an error naming the file: silently starting from defaults
 * would drop users, the SEL or boot settings an operator relies on.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class StateFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'StateFileError';
  }
}

export type Validate<T> = (raw: unknown) => T;

export class JsonStateFile<T> {
  readonly path: string | undefined;
  readonly #dir: string | undefined;
  readonly #validate: Validate<T>;

  constructor(stateDir: string | undefined, name: string, validate: Validate<T>) {
    this.#dir = stateDir;
    this.path = stateDir === undefined ? undefined : join(stateDir, name);
    this.#validate = validate;
  }

  /** True when documents survive the process (a state directory is configured). */
  get durable(): boolean {
    return this.path !== undefined;
  }

  /** The stored document, or undefined when there is none (first start, or no state directory). */
  load(): T | undefined {
    if (this.path === undefined) return undefined;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateFileError(this.path, `cannot read: ${(err as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text) as unknown;
    } catch (err) {
      throw new StateFileError(this.path, `not valid JSON: ${(err as Error).message}`);
    }
    try {
      return this.#validate(raw);
    } catch (err) {
      throw new StateFileError(this.path, (err as Error).message);
    }
  }

  save(value: T): void {
    if (this.path === undefined || this.#dir === undefined) return;
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(value, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(tmp, this.path);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing left to clean up
      }
      throw err;
    }
    const dirFd = openSync(this.#dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

/** Validation helpers for the small documents kept here. */
export function expectObject(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${what} must be an object`);
  return raw as Record<string, unknown>;
}

export function expectInt(raw: unknown, what: string, min: number, max: number): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) throw new Error(`${what} must be an integer ${min}..${max}`);
  return raw;
}

export function expectBool(raw: unknown, what: string): boolean {
  if (typeof raw !== 'boolean') throw new Error(`${what} must be true or false`);
  return raw;
}

export function expectString(raw: unknown, what: string, maxLength: number): string {
  if (typeof raw !== 'string' || raw.length > maxLength) throw new Error(`${what} must be a string of at most ${maxLength} characters`);
  return raw;
}

/** Bytes kept as hex in a document. */
export function expectHex(raw: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof raw !== 'string' || !/^([0-9a-f]{2})*$/i.test(raw) || raw.length / 2 > maxBytes) throw new Error(`${what} must be hex of at most ${maxBytes} bytes`);
  return Uint8Array.from(Buffer.from(raw, 'hex'));
}
