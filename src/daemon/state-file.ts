// The daemon's recorded desired state (scale overrides, stopped services) and the replicas it
// started, so a new daemon can clean up after a dead one. Written atomically: a crash mid-write
// leaves the previous good file in place.
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HerdError } from '../util/errors.ts';

export interface RecordedReplica {
  name: string;
  service: string;
  pid: number;
  /** /proc/<pid>/stat field 22 when recorded: proves the PID was not reused. */
  startTime: number;
}

export interface DaemonState {
  version: 1;
  project: string;
  /** Scale set by `herd scale`, overriding the compose file. */
  scale: Record<string, number>;
  /** Services stopped by `herd stop` (kept stopped until `herd start`). */
  stopped: string[];
  replicas: RecordedReplica[];
  /** PID of the daemon that wrote this file. */
  daemonPid?: number;
}

export function emptyState(project: string): DaemonState {
  return { version: 1, project, scale: {}, stopped: [], replicas: [] };
}

export function writeState(file: string, state: DaemonState): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state, null, 2) + '\n');
    fsyncSync(fd); // the data must be on disk before the rename makes it the current state
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // Make the rename itself durable.
  try {
    const dfd = openSync(dirname(file), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename is still atomic
  }
}

/** The recorded state; undefined when there is none. A corrupt file is a HerdError naming it. */
export function readState(file: string): DaemonState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HerdError(`cannot read state file ${file}: ${(err as Error).message}`, 'STATE');
  }
  const problem = (why: string) =>
    new HerdError(
      `state file ${file} is corrupt (${why}); remove it if no replicas of this project are running`,
      'STATE',
    );
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw problem((err as Error).message);
  }
  if (typeof raw !== 'object' || raw === null) throw problem('not a JSON object');
  const s = raw as Partial<DaemonState>;
  if (s.version !== 1) throw problem(`unknown version ${JSON.stringify(s.version)}`);
  if (typeof s.project !== 'string') throw problem('"project" is not a string');
  const scale = s.scale ?? {};
  if (typeof scale !== 'object' || Array.isArray(scale)) throw problem('"scale" is not an object');
  for (const [svc, n] of Object.entries(scale))
    if (!Number.isInteger(n) || n < 0) throw problem(`scale of ${svc} is not a whole number`);
  const stopped = s.stopped ?? [];
  if (!Array.isArray(stopped) || stopped.some((x) => typeof x !== 'string'))
    throw problem('"stopped" is not a list of service names');
  const replicas = s.replicas ?? [];
  if (!Array.isArray(replicas)) throw problem('"replicas" is not a list');
  for (const r of replicas) {
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.name !== 'string' ||
      !Number.isInteger(r.pid) ||
      !Number.isInteger(r.startTime)
    )
      throw problem(`bad replica record ${JSON.stringify(r)}`);
  }
  return {
    version: 1,
    project: s.project,
    scale,
    stopped,
    replicas,
    daemonPid: s.daemonPid,
  };
}

export function removeState(file: string): void {
  rmSync(file, { force: true });
}
