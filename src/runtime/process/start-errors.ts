// What the user reads when a process replica cannot start, and the exit code it is given (127 for
// a command that is not there, 126 for anything else, as a shell reports them).
import type { ReplicaSpec } from '../types.ts';

export function startErrorText(err: NodeJS.ErrnoException, spec: ReplicaSpec): string {
  const cmd = spec.command[0] ?? '';
  if (err.code === 'ENOENT') return `command not found: ${cmd} (PATH=${spec.env.PATH ?? ''})`;
  if (err.code === 'EACCES' && spec.uid !== undefined) {
    // As another user, the working directory may be what is out of reach, not the program.
    return `not executable: ${cmd} as uid ${spec.uid} (permission denied; can that user enter ${spec.cwd} and run ${cmd}?)`;
  }
  if (err.code === 'EACCES') return `not executable: ${cmd} (permission denied)`;
  if (err.code === 'EPERM')
    return `cannot start ${cmd} as uid ${spec.uid}: operation not permitted`;
  return `cannot start ${cmd}: ${err.message}`;
}

/** An errno-style error for a problem found before spawning (command-path.ts). */
export function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

export function startErrorExitCode(message: string): number {
  return /^command not found/.test(message) ? 127 : 126;
}
