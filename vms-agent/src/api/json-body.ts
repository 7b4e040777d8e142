/**
 * JSON bodies with every key once. JSON.parse keeps the last of two equal
 * keys, so `{"action":"domain_info","action":"destroy"}` was a destroy to
 * the API while a proxy, a WAF or a log reader that keeps the first saw a
 * harmless read (issue 13, finding 4). RFC 8259 §4 leaves the behaviour
 * undefined; we refuse such a body outright, whatever route it is for.
 *
 * Keys are compared after unescaping ("a" and "\u0061" are the same key).
 */
import { ServiceError } from '../errors.js';

/** The first key that appears twice in one object of `text` (valid JSON), with its byte offset. */
export function findDuplicateKey(text: string): { key: string; offset: number } | undefined {
  // One frame per open object (its keys so far) or array (null); the scan is iterative, so depth costs no stack.
  const frames: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const keys = frames.at(-1);
      if (keys && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) return { key, offset: Buffer.byteLength(text.slice(0, start), 'utf8') };
        keys.add(key);
        expectKey = false;
      }
    } else if (ch === '{') {
      frames.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      frames.push(null);
      expectKey = false;
    } else if (ch === '}' || ch === ']') {
      frames.pop();
      expectKey = false;
    } else if (ch === ',') {
      expectKey = frames.at(-1) != null;
    }
  }
  return undefined;
}

type Done = (err: Error | null, body?: unknown) => void;

/** Wraps fastify's default JSON parser (prototype-poisoning checks included) with the duplicate-key check. */
export function strictJsonParser<R>(defaultParser: (req: R, body: string, done: Done) => void): (req: R, body: string, done: Done) => void {
  return (req, body, done) => {
    defaultParser(req, body, (err, parsed) => {
      if (err) return done(err);
      const dup = findDuplicateKey(body);
      if (dup) {
        return done(new ServiceError('VALIDATION_FAILED', `body has the key "${dup.key.slice(0, 64)}" twice in one object (at byte ${dup.offset}); send each key once`));
      }
      done(null, parsed);
    });
  };
}
