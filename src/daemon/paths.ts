// Where a project's daemon keeps its socket, recorded state and logs, and the permissions on them:
// the dir is private (0700) so no other user can even reach the socket.
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { HerdError } from '../util/errors.ts';
import { KEY_FILE } from './daemon-lock.ts';
import { makePrivateDir, type PrivateDirOptions } from './dir-trust.ts';

export interface DaemonPaths {
  dir: string;
  socket: string;
  stateFile: string;
  logsDir: string;
  /** Process replicas' own output files and records (output-files.ts, replica-record.ts). */
  captureDir: string;
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
      'for a unix socket path on this system; set HERD_STATE_DIR to a shorter folder that only ' +
      'you can create, e.g. HERD_STATE_DIR=$XDG_RUNTIME_DIR/herd-<project> or ~/.herd/<project> ' +
      '(never a fresh name in /tmp, which another user could create first), or use a shorter ' +
      'project name with -p',
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
    captureDir: join(dir, 'logs', '.capture'),
    daemonLog: join(dir, 'daemon.log'),
  };
}

export function pathsFor(
  project: string,
  env: Record<string, string | undefined> = process.env,
): DaemonPaths {
  return daemonPaths(stateDirFor(project, env));
}

/** "ENOENT: no such file or directory, mkdir '/proc/x'" → "no such file or directory (ENOENT)
 * at mkdir /proc/x". */
function osError(e: NodeJS.ErrnoException): string {
  if (!e.code) return e.message;
  const text = e.message.replace(/^[A-Z0-9]+: /, '').replace(/, \w+ '.*'$/, '');
  return `${text} (${e.code})${e.syscall && e.path ? ` at ${e.syscall} ${e.path}` : ''}`;
}

/** Folders above a default state dir that are herd's own (`…/state/herd`), so checked as
 * strictly as the dir; a HERD_STATE_DIR's parents are the user's choice. */
function herdParentsOf(dir: string, env: Record<string, string | undefined>): string[] {
  const parent = dirname(dir);
  return dir !== env.HERD_STATE_DIR && basename(parent) === 'herd' ? [parent] : [];
}

/** Creates the state dir as 0700 (verified after the mkdir, never through a planted symlink), or
 * accepts an existing one that is the user's alone; refuses one another user owns or can write. */
export function ensurePrivateDir(
  dir: string,
  opts: Omit<PrivateDirOptions, 'herdParents'> = {},
  env: Record<string, string | undefined> = process.env,
): void {
  try {
    makePrivateDir(dir, { ...opts, herdParents: herdParentsOf(dir, env) });
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
  const lockKey = join(paths.dir, KEY_FILE);
  for (const f of [paths.socket, paths.stateFile, paths.daemonLog, lockKey])
    rmSync(f, { force: true });
  if (!opts.keepLogs) rmSync(paths.logsDir, { recursive: true, force: true });
  try {
    if (readdirSync(paths.dir).length === 0) rmdirSync(paths.dir);
  } catch {
    // already gone, or holds files that are not ours: leave it
  }
}
