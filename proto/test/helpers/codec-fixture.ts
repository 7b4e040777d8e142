/**
 * mqtt-packet style fixture tests: for each fixture, four tests (parse,
 * generate hex-equal, round trip, and the error table). Fixtures are byte
 * arrays with a comment per field.
 */
import { describe, expect, it } from 'vitest';
import { toHex, WireError, type WireErrorCode } from '../../src/index.js';

export interface CodecFixture<T> {
  name: string;
  bytes: Uint8Array;
  value: T;
}

export interface CodecErrorCase {
  name: string;
  bytes: Uint8Array;
  code: WireErrorCode;
}

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export function codecFixtureTests<T>(title: string, codec: Codec<T>, fixtures: CodecFixture<T>[], errors: CodecErrorCase[]): void {
  describe(title, () => {
    for (const f of fixtures) {
      it(`parses ${f.name}`, () => {
        expect(codec.decode(f.bytes)).toEqual(f.value);
      });
      it(`generates ${f.name}`, () => {
        expect(toHex(codec.encode(f.value))).toBe(toHex(f.bytes));
      });
      it(`round-trips ${f.name}`, () => {
        expect(toHex(codec.encode(codec.decode(f.bytes)))).toBe(toHex(f.bytes));
      });
    }
    for (const e of errors) {
      it(`rejects ${e.name} with ${e.code}`, () => {
        let thrown: unknown;
        try {
          codec.decode(e.bytes);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(WireError);
        expect((thrown as WireError).code).toBe(e.code);
      });
    }
  });
}

/** Calls fn; passes if it returns or throws WireError, fails on anything else. */
export function onlyWireErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof WireError)) throw new Error(`unexpected ${String((err as Error)?.name)}: ${String((err as Error)?.message)}`);
  }
}
