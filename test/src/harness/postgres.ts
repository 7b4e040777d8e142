/**
 * A throwaway PostgreSQL server for tests: `initdb` into a fresh temp
 * directory, `postgres` on a free 127.0.0.1 port with its socket in that
 * directory, fsync off (nothing here needs to survive a power cut), and
 * stopped by the postmaster's PID. Never touches a cluster the machine
 * already runs.
 *
 * PostgreSQL refuses to run as root: under root the binaries run as the
 * `postgres` user (created by Debian's `postgresql` package, which
 * scripts/bootstrap installs) through `runuser`, and the directory is
 * handed to that user; otherwise they run as the current user.
 *
 * No npm dependencies (databases are created with `psql`), so both the test
 * workspace and vms-agent's store tests can use it.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './ports.js';

/** The directory holding initdb/postgres/psql: $POSTGRES_BIN_DIR, else the newest /usr/lib/postgresql/N/bin (15 on Debian 12). */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env.POSTGRES_BIN_DIR;
  if (fromEnv) return existsSync(join(fromEnv, 'postgres')) ? fromEnv : undefined;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

/** Whether a PostgreSQL server can be started here (for describe.skipIf with a stated reason). */
export const hasPostgres = (): boolean => postgresBinDir() !== undefined;

export interface PostgresServer {
  readonly port: number;
  readonly dir: string;
  /** Data directory (PGDATA). */
  readonly dataDir: string;
  /** postgres://postgres@127.0.0.1:PORT/DATABASE */
  url(database?: string): string;
  /** CREATE DATABASE with a fresh name (or `name`); returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL through psql against `database`; returns psql's unaligned output. */
  psql(sql: string, database?: string): Promise<string>;
  /** Server log so far (for failure messages). */
  readonly log: string;
  stop(): Promise<void>;
}

interface RunAs {
  wrap(command: string, args: string[]): [string, string[]];
  owner?: { uid: number; gid: number };
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) return { wrap: (c, a) => [c, a] };
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  let owner: { uid: number; gid: number };
  try {
    owner = { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root but there is no "postgres" user: install the postgresql package (scripts/bootstrap does)');
  }
  return { wrap: (c, a) => ['runuser', ['-u', 'postgres', '--', c, ...a]], owner };
}

function run(command: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

let databaseCounter = 0;

export async function startPostgres(options: { readyTimeoutMs?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('no PostgreSQL server binaries (install the postgresql package, or set POSTGRES_BIN_DIR)');
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'backchannel-pg-'));
  if (as.owner) chownSync(dir, as.owner.uid, as.owner.gid);
  const dataDir = join(dir, 'data');
  try {
    const [c, a] = as.wrap(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    await run(c, a);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // A port found free can be taken before postgres binds it: try a few.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeTcpPort();
    try {
      return await launch(bin, as, dir, dataDir, port, options.readyTimeoutMs ?? 30_000);
    } catch (err) {
      lastError = err as Error;
      if (!/could not bind|Address already in use/.test(lastError.message)) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('postgres did not start');
}

async function launch(bin: string, as: RunAs, dir: string, dataDir: string, port: number, readyTimeoutMs: number): Promise<PostgresServer> {
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=100', 'shared_buffers=16MB', 'log_min_messages=warning'];
  const [c, a] = as.wrap(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', dir, ...settings.flatMap((s) => ['-c', s])]);
  const child: ChildProcess = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (chunk: Buffer) => {
    log += chunk.toString();
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const pidFile = join(dataDir, 'postmaster.pid');
  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  // If the test process dies without stop(), do not leave a server behind.
  const onExit = () => {
    const pid = postmasterPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', onExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    // SIGINT = fast shutdown. The PID is the postmaster's own (under runuser the child we spawned is runuser).
    const pid = postmasterPid();
    if (pid && !exited) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* already gone */
      }
    }
    const timer = setTimeout(() => {
      const p = postmasterPid();
      if (p) {
        try {
          process.kill(p, 'SIGQUIT');
        } catch {
          /* already gone */
        }
      }
    }, 5_000);
    await exit;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (!/database system is ready to accept connections/.test(log)) {
    if (exited) {
      process.removeListener('exit', onExit);
      throw new Error(`postgres exited before it was ready:\n${log.slice(-4000)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`postgres not ready within ${readyTimeoutMs} ms:\n${log.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const psql = (sql: string, database = 'postgres') =>
    run(join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-c', sql]);
  return {
    port,
    dir,
    dataDir,
    url,
    psql,
    get log() {
      return log;
    },
    async createDatabase(name?: string) {
      const db = name ?? `t_${process.pid}_${++databaseCounter}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`database name ${db} is not a plain identifier`);
      await psql(`CREATE DATABASE ${db}`);
      return url(db);
    },
    stop,
  };
}

/** Every file under `dir` (for at-rest checks over a data directory), skipping what disappears while walking. */
export function readAllFiles(dir: string): Buffer[] {
  const out: Buffer[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      try {
        const s = statSync(p);
        if (s.isDirectory()) walk(p);
        else if (s.isFile()) out.push(readFileSync(p));
      } catch {
        /* removed while walking (temp files) */
      }
    }
  };
  walk(dir);
  return out;
}
