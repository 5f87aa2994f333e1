// Spawning one process replica: in its own process group and, where the machine has a writable
// cgroup hierarchy, in its own cgroup from its first instruction (spawn-gate.ts). Every way it can
// fail to start ends as a startError, never as a throw.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isHerdError } from '../../util/errors.ts';
import type { ReplicaSpec } from '../types.ts';
import type { Cgroups } from './cgroups.ts';
import { commandProblem } from './command-path.ts';
import type { ReplicaCgroup } from './replica-cgroup.ts';
import { openGate, refuseGate, spawnGated } from './spawn-gate.ts';
import { errnoError, startErrorText } from './start-errors.ts';

export type Spawned =
  | { child: ChildProcess & { pid: number }; cgroup?: ReplicaCgroup; startError?: undefined }
  | { startError: string; child?: undefined; cgroup?: undefined };

export async function spawnReplica(spec: ReplicaSpec, cgroups: Cgroups): Promise<Spawned> {
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
  const failed = async (startError: string): Promise<Spawned> => {
    await cgroup?.remove();
    return { startError };
  };
  // Behind the gate the shell execs the command: find out here what its exec would say.
  const problem = cgroup ? commandProblem(file, spec.env, spec.cwd, spec) : undefined;
  if (problem) return failed(startErrorText(errnoError(problem), spec));
  const options: SpawnOptions = {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: spec.uid,
    gid: spec.gid,
  };
  let child: ChildProcess;
  try {
    child = cgroup ? spawnGated(spec.command, options) : spawn(file, args, options);
  } catch (err) {
    return failed(startErrorText(err as NodeJS.ErrnoException, spec));
  }
  // spawn reports a missing or non-executable command asynchronously, through 'error'.
  const failure = await new Promise<string | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(startErrorText(err, spec)));
  });
  if (failure !== undefined || child.pid === undefined) return failed(failure ?? 'could not start');
  if (cgroup) {
    try {
      cgroup.join(child.pid);
    } catch (err) {
      refuseGate(child);
      return failed(`cannot put ${spec.name} in its cgroup: ${(err as Error).message}`);
    }
    openGate(child);
  }
  return { child: child as ChildProcess & { pid: number }, cgroup };
}
