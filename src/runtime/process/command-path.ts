// Finds the program a replica's argv[0] names the way execvp does (a name with a slash is a path
// from the working directory; otherwise the first executable match on the replica's PATH), to
// tell "command not found" and "not executable" apart before anything runs. A replica that starts
// through the cgroup gate (spawn-gate.ts) needs it: there the shell, not herd, calls exec.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/** libuv's (and glibc's) search path when the environment has no PATH. */
const DEFAULT_PATH = '/usr/bin:/bin';

export type CommandProblem = 'ENOENT' | 'EACCES';

interface Runner {
  /** Set when the replica runs as another user (only primary group: herd drops the others). */
  uid?: number;
  gid?: number;
}

/** Whether `who` may execute the file `st` describes at `file`. */
function executable(file: string, st: Stats, who: Runner): boolean {
  if (!st.isFile()) return false;
  if (who.uid === undefined) {
    // herd's own credentials: the kernel knows best.
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  if (who.uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === who.uid) return (st.mode & 0o100) !== 0;
  if (who.gid !== undefined && st.gid === who.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** Why `argv0` cannot be executed, or undefined when it can (as far as herd can tell). */
export function commandProblem(
  argv0: string,
  env: Record<string, string>,
  cwd: string,
  who: Runner,
): CommandProblem | undefined {
  const candidates = argv0.includes('/')
    ? [path.resolve(cwd, argv0)]
    : (env.PATH ?? DEFAULT_PATH).split(':').map((dir) => path.resolve(cwd, dir || '.', argv0));
  let sawDenied = false;
  for (const file of candidates) {
    const st = statOrUndefined(file);
    if (st === undefined) continue;
    if (executable(file, st, who)) return undefined;
    sawDenied = true;
  }
  return sawDenied ? 'EACCES' : 'ENOENT';
}
