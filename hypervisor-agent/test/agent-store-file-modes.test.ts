/**
 * Issue 13, secrets at rest: the agent's SQLite files (request journal,
 * unacknowledged bodies in plaintext) are created 0600 whatever the umask,
 * WAL and SHM included, and files an older version left 0644 are tightened.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentStore } from '../src/store/agent-store.js';

let dir = '';
let umask = 0;
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});
const modes = () => Object.fromEntries(readdirSync(dir).map((f) => [f, (statSync(join(dir, f)).mode & 0o777).toString(8)]));

describe('agent store file modes', () => {
  it('creates agent.db, -wal and -shm 0600 under umask 022', () => {
    umask = process.umask(0o022);
    dir = mkdtempSync(join(tmpdir(), 'agent-modes-'));
    const store = new AgentStore(join(dir, 'agent.db'));
    store.flush();
    expect(modes()).toEqual({ 'agent.db': '600', 'agent.db-wal': '600', 'agent.db-shm': '600' });
    store.close();
  });

  it('tightens files an older version left 0644', () => {
    umask = process.umask(0o022);
    dir = mkdtempSync(join(tmpdir(), 'agent-modes-'));
    new AgentStore(join(dir, 'agent.db')).close();
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
    const store = new AgentStore(join(dir, 'agent.db'));
    expect(Object.values(modes()).every((m) => m === '600')).toBe(true);
    store.close();
  });
});
