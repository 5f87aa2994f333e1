// The daemon's recorded desired state (scale overrides, stopped services) and the replicas it
// started, so a new daemon can clean up after a dead one. Written atomically: a crash mid-write
// leaves the previous good file in place.
import {
  constants as fsConstants,
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
import { checkOwnFile } from './dir-trust.ts';

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

/** Writes `state` atomically: a temp file (created fresh, never through a planted link), synced,
 * then renamed over `file`. On failure the temp file goes and the previous file stays. */
export function writeState(file: string, state: DaemonState): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  rmSync(tmp, { force: true }); // a leftover of a write that failed half-way
  const fd = openSync(
    tmp,
    fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
    0o600,
  );
  try {
    try {
      writeSync(fd, JSON.stringify(state, null, 2) + '\n');
      fsyncSync(fd); // the data must be on disk before the rename makes it the current state
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
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
  // Its replica records decide what `down` kills: only a file of the user's own is believed.
  if (!checkOwnFile(file, 'file')) return undefined;
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
