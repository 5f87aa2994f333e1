// Runs a command in this terminal on behalf of a replica (`herd exec`, `herd run` of a process
// service): its stdin is ours, its output ours exactly, its exit code becomes ours. Without -T
// it gets our terminal itself (a TTY when ours is one); with -T its output goes through pipes.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { chooseGate, findPerl, openGate, spawnGated } from '../runtime/process/spawn-gate.ts';
import { HerdError } from '../util/errors.ts';

export interface ForegroundSpec {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  /** cgroup.procs files the command joins as it starts (the replica's limits apply to it). */
  cgroupProcs?: string[];
  /** false (-T): no terminal for the command, even when ours is one. */
  tty: boolean;
}

/** Runs the command to its end; resolves with its exit code (128 + n when killed by signal n). */
export async function runForeground(spec: ForegroundSpec): Promise<number> {
  const [file, ...args] = spec.argv;
  if (!file) throw new HerdError('no command to run', 'INVALID_ARGUMENT');
  const sameUser = spec.uid === undefined || spec.uid === process.getuid?.();
  const options = {
    cwd: spec.cwd,
    env: spec.env,
    ...(sameUser ? {} : { uid: spec.uid, gid: spec.gid }),
  };
  const std: ['inherit', 'inherit' | 'pipe', 'inherit' | 'pipe'] = spec.tty
    ? ['inherit', 'inherit', 'inherit']
    : ['inherit', 'pipe', 'pipe'];
  // Into the replica's cgroups before it runs: behind the gate replicas start with.
  const gate = spec.cgroupProcs?.length ? chooseGate(spec.env, findPerl()) : undefined;
  const child = gate
    ? spawnGated(gate, spec.argv, { ...options, std })
    : spawn(file, args, { ...options, stdio: std });
  if (gate)
    child.once('spawn', () => {
      joinCgroups(child.pid!, spec.cgroupProcs ?? []);
      openGate(gate, child, spec.env);
    });
  else if (spec.cgroupProcs?.length)
    child.once('spawn', () => joinCgroups(child.pid!, spec.cgroupProcs ?? []));
  child.stdout?.pipe(process.stdout);
  child.stderr?.pipe(process.stderr);
  // Ctrl-C reaches the command through the terminal: it decides, herd waits for its exit.
  const ignore = () => undefined;
  for (const s of ['SIGINT', 'SIGQUIT'] as const) process.on(s, ignore);
  const forward = (s: NodeJS.Signals) => child.kill(s);
  for (const s of ['SIGTERM', 'SIGHUP'] as const) process.on(s, forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new HerdError(
            err.code === 'ENOENT'
              ? `${file}: command not found (in ${spec.cwd}, on the replica's PATH)`
              : `cannot run ${file}: ${err.message}`,
            'RUNTIME',
            err.code === 'ENOENT' ? 127 : 126,
          ),
        ),
      );
      child.once('close', (code, signal) =>
        resolve(
          signal ? 128 + ((constants.signals as Record<string, number>)[signal] ?? 0) : (code ?? 0),
        ),
      );
    });
  } finally {
    for (const s of ['SIGINT', 'SIGQUIT'] as const) process.off(s, ignore);
    for (const s of ['SIGTERM', 'SIGHUP'] as const) process.off(s, forward);
  }
}

/** Moves the command into the replica's cgroups: before it runs behind the gate; without one (no
 * perl, and an environment /bin/sh would change) right after it started. */
function joinCgroups(pid: number, files: string[]): void {
  const failed = files.filter((f) => {
    try {
      writeFileSync(f, String(pid));
      return false;
    } catch {
      return true;
    }
  });
  if (failed.length > 0)
    process.stderr.write(
      `herd: warning: the command runs outside the replica's cgroup (cannot write ${failed[0]})\n`,
    );
}
