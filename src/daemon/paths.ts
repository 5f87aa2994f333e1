// Where a project's daemon keeps its socket, recorded state and logs, and the permissions on them:
// the dir is private (0700) so no other user can even reach the socket.
import { chmodSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
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

export function daemonPaths(dir: string): DaemonPaths {
  return {
    dir,
    socket: join(dir, 'herd.sock'),
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

/** Creates the state dir as 0700, or tightens an existing one that is looser. */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory()) throw new HerdError(`state dir ${dir} exists but is not a directory`);
    if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  } catch (err) {
    if (err instanceof HerdError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EEXIST' || e.code === 'ENOTDIR'
        ? 'it or a folder above it exists but is not a directory'
        : e.code === 'EACCES' || e.code === 'EPERM'
          ? 'permission denied'
          : (e.code ?? e.message);
    throw new HerdError(
      `cannot prepare state dir ${dir}: ${why}; set HERD_STATE_DIR to a writable folder`,
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
