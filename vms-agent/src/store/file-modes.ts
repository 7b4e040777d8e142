/**
 * Owner-only files for the SQLite store: it holds token hashes, sealed
 * secrets and every command ever issued, so nobody but the service's user
 * may read it (issue 13: the files were created 0644).
 *
 * SQLite creates its -wal, -shm and -journal files with the permissions of
 * the database file (os_unix.c, robust_open: it fchmods a new file to the
 * database's mode whatever the umask), and when it runs as root it gives
 * them the database file's owner. So it is enough that the database file is
 * 0600 before SQLite first opens it; files of an older version are
 * tightened at open, and a directory the store has to create is 0700.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export const SECRET_FILE_MODE = 0o600;
export const SECRET_DIR_MODE = 0o700;

/** The files SQLite keeps for a database at `path`. */
export function sqliteFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`, `${path}-journal`];
}

function isFileDatabase(path: string): boolean {
  return path !== '' && path !== ':memory:' && !path.startsWith('file:');
}

/** Run before opening: creates the directory (0700) and the file (0600) if missing, and tightens existing ones. */
export function prepareSqliteFiles(path: string): void {
  if (!isFileDatabase(path)) return;
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: SECRET_DIR_MODE });
  closeSync(openSync(path, 'a', SECRET_FILE_MODE));
  tightenSqliteFiles(path);
}

/** Makes every file of the database 0600 (run again after open, for a WAL or SHM left by an older version). */
export function tightenSqliteFiles(path: string): void {
  if (!isFileDatabase(path)) return;
  for (const file of sqliteFiles(path)) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // not there (yet)
    }
    if (mode === SECRET_FILE_MODE) continue;
    try {
      chmodSync(file, SECRET_FILE_MODE);
    } catch (err) {
      throw new Error(`${file} is mode ${mode.toString(8)} and could not be made 0600 (${(err as Error).message}); it holds token hashes and command history: fix its owner or mode`);
    }
  }
}
