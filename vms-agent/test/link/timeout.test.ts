import { describe, expect, it } from 'vitest';
import { TimeoutError, withTimeout } from '../../src/link/timeout.js';

describe('withTimeout', () => {
  it('passes results and errors through, and times out', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, 'x')).rejects.toThrow('boom');
    await expect(withTimeout(new Promise(() => undefined), 20, 'Get Record')).rejects.toBeInstanceOf(TimeoutError);
  });
});
