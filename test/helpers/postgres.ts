// A throwaway PostgreSQL 15 cluster for tests: Debian's binaries, a temp dir, a free loopback
// port, run as the `postgres` system user (PostgreSQL refuses to run as root, and we are root).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { allocatePort } from '../../src/runtime/ports.ts';
import { runEnv } from './run-env.ts';
import { tempDir } from './tmp.ts';

export const PG_BIN = process.env.HERD_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  host: string;
  port: number;
  /** Superuser; auth is `trust` on loopback, so no password. */
  user: string;
  database: string;
  dataDir: string;
  socketDir: string;
  /** Fast shutdown, then removes the temp dir. Safe to call twice or after kill9(). */
  stop(): Promise<void>;
  /** Simulates a crash: SIGKILL to the server and all its backends. Keeps the data dir. */
  kill9(): Promise<void>;
}

export interface PostgresIds {
  uid: number;
  gid: number;
}

/** uid/gid of a system user from /etc/passwd. */
export function systemUser(name: string): PostgresIds {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(`system user "${name}" not found in /etc/passwd: install Debian's postgresql`);
}

/** A port that was free a moment ago on 127.0.0.1 (see src/runtime/ports.ts). */
export const freePort = allocatePort;

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export async function startPostgres(): Promise<TestPostgres> {
  const ids = systemUser('postgres');
  const root = tempDir('pg');
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  chownSync(root, ids.uid, ids.gid);
  chownSync(socketDir, ids.uid, ids.gid);
  const env = {
    PATH: `${PG_BIN}:/usr/bin:/bin`,
    LC_ALL: 'C',
    ...runEnv(),
  };

  const init = spawnSync(
    join(PG_BIN, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...ids, env, cwd: root, encoding: 'utf8' },
  );
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(
      `initdb failed (${init.error?.message ?? `exit ${init.status}`}):\n${init.stderr}`,
    );
  }

  // The port can be taken between freePort() and bind: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const server = await launch(dataDir, socketDir, port, ids, env, root);
      return handle(server, port, root, dataDir, socketDir);
    } catch (err) {
      lastError = err;
    }
  }
  rmSync(root, { recursive: true, force: true });
  throw lastError;
}

async function launch(
  dataDir: string,
  socketDir: string,
  port: number,
  ids: PostgresIds,
  env: Record<string, string>,
  cwd: string,
): Promise<ChildProcess> {
  const args = ['-D', dataDir, '-p', String(port), '-k', socketDir];
  for (const setting of [
    'listen_addresses=127.0.0.1',
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
  ]) {
    args.push('-c', setting);
  }
  const child = spawn(join(PG_BIN, 'postgres'), args, {
    ...ids,
    env,
    cwd,
    detached: true, // its own group: kill9() takes the backends too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const ready = spawnSync(
      join(PG_BIN, 'pg_isready'),
      ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'],
      { env },
    );
    if (ready.status === 0) {
      // Only the server's own log lines matter from now on: stop buffering them.
      child.stdout?.removeAllListeners('data').resume();
      child.stderr?.removeAllListeners('data').resume();
      return child;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  killGroup(child, 'SIGKILL');
  throw new Error(`postgres did not become ready on 127.0.0.1:${port}:\n${log}`);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function handle(
  server: ChildProcess,
  port: number,
  root: string,
  dataDir: string,
  socketDir: string,
): TestPostgres {
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    dataDir,
    socketDir,
    async kill9() {
      killGroup(server, 'SIGKILL');
      await exited(server);
    },
    async stop() {
      // SIGINT is PostgreSQL's "fast shutdown": roll back sessions, checkpoint, exit.
      if (server.pid !== undefined) {
        try {
          process.kill(server.pid, 'SIGINT');
        } catch {
          // already gone
        }
      }
      const timer = setTimeout(() => killGroup(server, 'SIGKILL'), STOP_TIMEOUT_MS);
      await exited(server);
      clearTimeout(timer);
      killGroup(server, 'SIGKILL'); // any backend still lingering
      rmSync(root, { recursive: true, force: true });
    },
  };
}
