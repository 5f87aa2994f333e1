// Where a project's daemon keeps its socket, recorded state and logs, and the permissions on them:
// the dir is private (0700) so no other user can even reach the socket.
import { chmodSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { HerdError } from '../util/errors.ts';

export interface DaemonPaths {
  dir: string;
  socket: string;
  stateFile: string;
  logsDir: string;
  daemonLog: string;
}

/** `$HERD_STATE_DIR`, else `$XDG_STATE_HOME/herd/<project>`, else `~/.local/state/herd/<project>`. */
export function stateDirFor(
  project: string,
  env: Record<string, string | undefined> = process.env,
): string {
  if (env.HERD_STATE_DIR) return env.HERD_STATE_DIR;
  // The XDG spec says relative values are invalid and must be ignored.
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'herd', project);
}

/** The longest unix socket path the kernel takes, in bytes: `sun_path` is 108 bytes on Linux and
 * 104 on macOS and the BSDs, the terminating NUL included. */
export const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;

/** Refuses a socket path the kernel would reject (or silently truncate) when the daemon binds it. */
export function checkSocketPath(socket: string, max = SOCKET_PATH_MAX): void {
  const bytes = Buffer.byteLength(socket);
  if (bytes <= max) return;
  throw new HerdError(
    `the daemon's socket path ${socket} is ${bytes} bytes long, over the limit of ${max} bytes ` +
      'for a unix socket path on this system; set HERD_STATE_DIR to a shorter folder ' +
      '(e.g. HERD_STATE_DIR=/tmp/herd-<project>), or use a shorter project name with -p',
    'STATE',
  );
}

export function daemonPaths(dir: string): DaemonPaths {
  const socket = join(dir, 'herd.sock');
  checkSocketPath(socket);
  return {
    dir,
    socket,
    stateFile: join(dir, 'state.json'),
    logsDir: join(dir, 'logs'),
    daemonLog: join(dir, 'daemon.log'),
  };
}

export function pathsFor(
  project: string,
  env: Record<string, string | undefined> = process.env,
): DaemonPaths {
  return daemonPaths(stateDirFor(project, env));
}

/** `mkdir -p` with `mode` for every folder it creates. Not `mkdirSync(…, { recursive: true })`,
 * which on Node 20 retries ENOENT forever where a folder cannot be made (under /proc, say). */
function makeDirs(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') {
      if (statSync(dir).isDirectory()) return;
      throw err;
    }
    const parent = dirname(dir);
    if (e.code !== 'ENOENT' || parent === dir) throw err;
    makeDirs(parent, mode);
    // Once: if the parent exists and this still fails, the error is final.
    try {
      mkdirSync(dir, { mode });
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory())
        throw again;
    }
  }
}

/** "ENOENT: no such file or directory, mkdir '/proc/x'" → "no such file or directory (ENOENT)
 * at mkdir /proc/x". */
function osError(e: NodeJS.ErrnoException): string {
  if (!e.code) return e.message;
  const text = e.message.replace(/^[A-Z0-9]+: /, '').replace(/, \w+ '.*'$/, '');
  return `${text} (${e.code})${e.syscall && e.path ? ` at ${e.syscall} ${e.path}` : ''}`;
}

/** Creates the state dir as 0700, or tightens an existing one that is looser. */
export function ensurePrivateDir(dir: string): void {
  try {
    makeDirs(dir, 0o700);
    const st = statSync(dir);
    if (!st.isDirectory())
      throw new HerdError(`state dir ${dir} exists but is not a directory`, 'STATE');
    if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  } catch (err) {
    if (err instanceof HerdError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EEXIST' || e.code === 'ENOTDIR'
        ? 'it or a folder above it exists but is not a directory'
        : e.code === 'EACCES' || e.code === 'EPERM'
          ? 'permission denied'
          : osError(e);
    throw new HerdError(
      `cannot prepare state dir ${dir}: ${why}; set HERD_STATE_DIR to a writable folder`,
      'STATE',
    );
  }
}

/** After `down` (or a stack that ended): the files herd keeps in the state dir — the replicas'
 * logs too unless `keepLogs` — then the dir itself if nothing else is in it. */
export function removeStateDir(paths: DaemonPaths, opts: { keepLogs?: boolean } = {}): void {
  for (const f of [paths.socket, paths.stateFile, paths.daemonLog]) rmSync(f, { force: true });
  if (!opts.keepLogs) rmSync(paths.logsDir, { recursive: true, force: true });
  try {
    if (readdirSync(paths.dir).length === 0) rmdirSync(paths.dir);
  } catch {
    // already gone, or holds files that are not ours: leave it
  }
}
