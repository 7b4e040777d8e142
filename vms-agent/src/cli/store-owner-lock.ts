/**
 * One `vms-agent serve` per SQLite store. Two would both run a link to every
 * BMC: two producers on queue 1, two readers committing queue 2.
 *
 * The lock is a second, tiny SQLite file beside the store (`<db>.serve-lock`)
 * that serve opens in EXCLUSIVE locking mode and writes once: SQLite then
 * holds its file lock for as long as the connection is open, and the
 * operating system drops it when the process ends, however it ends (a kill -9
 * leaves no stale lock behind). Admin commands (`hosts add`, `tokens create`
 * ...) open the store itself, not this file, so they keep working beside a
 * running serve. PostgreSQL stores do not use this: replicas share them and
 * split the links by lease (link/lease-keeper.ts).
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { prepareSqliteFiles } from '../store/file-modes.js';
import { CliError, EXIT } from './cli-error.js';

export class StoreOwnerLock {
  readonly path: string;
  readonly #db: Database.Database;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
  }

  /** Takes the lock of the SQLite store at `dbPath`, or throws a CliError (exit 8) naming the store when another process holds it. */
  static acquire(dbPath: string, now: () => number = Date.now): StoreOwnerLock {
    const path = `${dbPath}.serve-lock`;
    let db: Database.Database;
    try {
      // Owner-only like the store beside it (it names the owner's pid and host; nobody else needs to read it).
      prepareSqliteFiles(path);
      // timeout 0: a held lock is an answer, not something to wait for.
      db = new Database(path, { timeout: 0 });
    } catch (err) {
      throw new CliError(EXIT.failed, 'STORE_LOCK_FAILED', `cannot create the store's lock file ${path}: ${(err as Error).message}`);
    }
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, host TEXT NOT NULL, since_ms INTEGER NOT NULL)');
      db.exec('DELETE FROM owner');
      db.prepare('INSERT INTO owner (pid, host, since_ms) VALUES (?, ?, ?)').run(process.pid, hostname(), now());
      db.exec('COMMIT');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new CliError(
          EXIT.conflict,
          'STORE_IN_USE',
          `another "vms-agent serve" is running on the store ${dbPath} (it holds ${path}); only one may run on a SQLite store: stop it first (several replicas need a PostgreSQL store)`,
        );
      }
      throw new CliError(EXIT.failed, 'STORE_LOCK_FAILED', `cannot lock the store's lock file ${path}: ${(err as Error).message}`);
    }
    return new StoreOwnerLock(path, db);
  }

  /** Releases the lock (the file stays: removing it could race with the next owner). */
  release(): void {
    if (this.#db.open) this.#db.close();
  }
}
