/**
 * The agent's SQLite files are owner-only (0600): they journal every request
 * (principal, action, domain, result) and keep unacknowledged message bodies
 * in plaintext, so no other local user may read them (issue 13, "secrets at
 * rest"; the state directory is created 0700, but may be one that already
 * existed with a wider mode).
 *
 * SQLite creates its -wal, -shm and -journal files with the mode of the
 * database file, whatever the umask, so creating the database 0600 before
 * SQLite opens it is enough; files left wider by an older version are
 * tightened here too.
 */
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';

export const OWNER_ONLY = 0o600;

/** Creates the database file 0600 if missing and makes it and its side files 0600 (before open, and again after). */
export function ownerOnlySqlite(path: string): void {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return;
  closeSync(openSync(path, 'a', OWNER_ONLY));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // not there (yet)
    }
    if (mode !== OWNER_ONLY) chmodSync(file, OWNER_ONLY);
  }
}
