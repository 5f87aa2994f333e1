// Spawning one process replica: in its own process group and, where the machine has a writable
// cgroup hierarchy, in its own cgroup from its first instruction (spawn-gate.ts). Every way it can
// fail to start ends as a startError, never as a throw.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import { isHerdError } from '../../util/errors.ts';
import type { ReplicaSpec } from '../types.ts';
import type { Cgroups } from './cgroups.ts';
import { lowerWhileBooting } from './boot-priority.ts';
import { commandProblem } from './command-path.ts';
import type { ReplicaCgroup } from './replica-cgroup.ts';
import { openCapture, removeCapture } from './output-files.ts';
import {
  chooseGate,
  openGate,
  refuseGate,
  shellMangled,
  spawnGated,
  type Std,
} from './spawn-gate.ts';
import { errnoError, startErrorText } from './start-errors.ts';

export interface SpawnContext {
  cgroups: Cgroups;
  /** The perl the gate runs with; null: /bin/sh is the gate (spawn-gate.ts). */
  perl: string | null;
  /** Output to files here (output-files.ts), not to pipes. */
  outputDir?: string;
  /** Boot at a low priority until booted() (boot-priority.ts): set by the daemon, which tells
   * the replica's readiness; not by one-off runs or tests that never would. */
  bootPriority?: boolean;
}

export type Spawned =
  | { child: ChildProcess & { pid: number }; cgroup?: ReplicaCgroup; startError?: undefined }
  | { startError: string; child?: undefined; cgroup?: undefined };

export async function spawnReplica(
  spec: ReplicaSpec,
  { cgroups, perl, outputDir, bootPriority }: SpawnContext,
): Promise<Spawned> {
  const [file, ...args] = spec.command;
  if (file === undefined || file === '') return { startError: 'no command to run' };
  if (!existsSync(spec.cwd)) return { startError: `working directory does not exist: ${spec.cwd}` };
  let cgroup: ReplicaCgroup | undefined;
  try {
    cgroup = cgroups.create(spec);
  } catch (err) {
    if (!isHerdError(err)) throw err;
    return { startError: err.message };
  }
  let capture: [number, number] | undefined;
  const failed = async (startError: string): Promise<Spawned> => {
    if (outputDir !== undefined && capture) removeCapture(outputDir, spec.name);
    await cgroup?.remove();
    return { startError };
  };
  const gate = cgroup ? chooseGate(spec.env, perl) : undefined;
  if (cgroup && !gate) warnUngated(cgroups, spec);
  // Behind the gate, the gate execs the command: find out here what its exec would say.
  const problem = gate ? commandProblem(file, spec.env, spec.cwd, spec) : undefined;
  if (problem) return failed(startErrorText(errnoError(problem), spec));
  const options = {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    uid: spec.uid,
    gid: spec.gid,
  };
  let child: ChildProcess;
  try {
    if (outputDir !== undefined) capture = openCapture(outputDir, spec.name);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return failed(`cannot create its output files in ${outputDir}: ${e.code ?? e.message}`);
  }
  const std: [Std, Std, Std] = ['ignore', ...(capture ?? (['pipe', 'pipe'] as const))];
  try {
    child = gate
      ? spawnGated(gate, spec.command, { ...options, std })
      : spawn(file, args, { ...options, stdio: std });
  } catch (err) {
    return failed(startErrorText(err as NodeJS.ErrnoException, spec));
  } finally {
    // The child has its own copies now (or never will): the daemon holds none open.
    for (const fd of capture ?? []) closeSync(fd);
  }
  // spawn reports a missing or non-executable command asynchronously, through 'error'.
  const failure = await new Promise<string | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(startErrorText(err, spec)));
  });
  if (failure !== undefined || child.pid === undefined) return failed(failure ?? 'could not start');
  if (bootPriority) lowerWhileBooting(child.pid);
  if (cgroup) {
    try {
      cgroup.join(child.pid);
    } catch (err) {
      refuseGate(child);
      return failed(`cannot put ${spec.name} in its cgroup: ${(err as Error).message}`);
    }
    if (gate) openGate(gate, child, spec.env);
  }
  return { child: child as ChildProcess & { pid: number }, cgroup };
}

/** Without perl, /bin/sh is the only gate, and it would lose some of the environment: the replica
 * starts without a gate and joins its cgroup right after (a moment unlimited), rather than lose
 * its settings. */
function warnUngated(cgroups: Cgroups, spec: ReplicaSpec): void {
  const names = shellMangled(spec.env);
  cgroups.warnOnce(
    `service "${spec.service}": ${names.join(', ')} cannot pass through /bin/sh, which starts ` +
      'process replicas inside their cgroup where perl is not installed: its replicas join ' +
      'their cgroup a moment after they start (install perl to close that gap)',
    `ungated:${spec.service}`,
  );
}
