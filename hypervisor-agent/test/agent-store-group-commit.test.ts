/**
 * The store's unit of work: writes are invisible to anyone else (and lost by a
 * crash) until `flush()` commits them, with one commit for many writes; a
 * `transaction(fn)` inside it still stands or falls as one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentStore } from '../src/store/agent-store.js';

describe('AgentStore group commit', () => {
  const dirs: string[] = [];
  const open: AgentStore[] = [];
  const storeIn = (dir: string) => {
    const store = new AgentStore(join(dir, 'agent.db'));
    open.push(store);
    return store;
  };
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-store-gc-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const s of open.splice(0)) {
      try {
        s.close();
      } catch {
        // already closed by the test
      }
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps writes in one unit of work until flush, then commits them with one commit', () => {
    const dir = newDir();
    const store = storeIn(dir);
    store.flush(); // nothing written yet: no commit
    expect(store.flushes).toBe(0);
    store.setNumber('read_commit', 7);
    store.addOutbox(store.nextMessageId(), new Uint8Array([1, 2, 3]), 1000);
    store.transaction(() => store.setNumber('bmc_epoch', 42));
    // The writer sees its own writes...
    expect(store.getNumber('read_commit')).toBe(7);
    // ...another connection (what survives a crash) does not, yet.
    const other = storeIn(dir);
    expect(other.getNumber('read_commit')).toBe(0);
    expect(other.outboxIds()).toEqual([]);
    store.flush();
    expect(store.flushes).toBe(1);
    expect(other.getNumber('read_commit')).toBe(7);
    expect(other.getNumber('bmc_epoch')).toBe(42);
    expect(other.outboxIds()).toEqual([1]);
    expect(other.peekNextMessageId()).toBe(2);
  });

  it('loses unflushed writes when the process goes away, and nothing flushed before them', () => {
    const dir = newDir();
    const path = join(dir, 'agent.db');
    const crashed = new AgentStore(path);
    crashed.setNumber('read_commit', 3);
    crashed.flush();
    crashed.setNumber('read_commit', 4); // never flushed
    // A second process opening the file sees the last flushed state. (The
    // first connection is left open, as a killed process would leave it.)
    const restarted = storeIn(dir);
    expect(restarted.getNumber('read_commit')).toBe(3);
    open.push(crashed);
  });

  it('rolls back a failed transaction(fn) alone and keeps the rest of the unit of work', () => {
    const dir = newDir();
    const store = storeIn(dir);
    store.setNumber('a', 1);
    expect(() =>
      store.transaction(() => {
        store.setNumber('b', 2);
        throw new Error('half-done step');
      }),
    ).toThrow('half-done step');
    store.flush();
    const other = storeIn(dir);
    expect(other.getNumber('a')).toBe(1);
    expect(other.getNumber('b')).toBe(0);
  });

  it('commits what is pending when closed', () => {
    const dir = newDir();
    const store = new AgentStore(join(dir, 'agent.db'));
    store.setNumber('report_seq', 9);
    store.close();
    expect(storeIn(dir).getNumber('report_seq')).toBe(9);
  });
});
