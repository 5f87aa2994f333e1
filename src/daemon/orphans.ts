// On daemon start (and `down` without a daemon): stop the replicas a dead daemon left behind.
// Only a process whose PID *and* start time match the record, and whose environment says herd
// started it for this project and service, is signalled — never a reused PID, never a process a
// forged state file names.
import {
  groupMembers,
  isHerdProcess,
  isSameProcess,
  leftoverMembers,
  readStat,
} from '../util/process-identity.ts';
import type { RecordedReplica } from './state-file.ts';

export interface OrphanResult {
  /** Replicas found alive and stopped. */
  stopped: string[];
  /** Records whose PID is gone or now belongs to another process: left alone. */
  skipped: string[];
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() >= until) return false;
    await sleep(50);
  }
}

/** Gone, or a zombie nobody reaped yet. */
function isGone(pid: number): boolean {
  const stat = readStat(pid);
  return stat === undefined || stat.state === 'Z';
}

export interface OrphanOptions {
  /** The project the records belong to: a process must carry its HERD_PROJECT. */
  project: string;
  graceMs?: number;
}

export async function stopOrphans(
  records: RecordedReplica[],
  opts: OrphanOptions,
): Promise<OrphanResult> {
  const { project } = opts;
  const graceMs = opts.graceMs ?? 10_000;
  const result: OrphanResult = { stopped: [], skipped: [] };
  const groups: { name: string; pgid: number }[] = [];
  for (const r of records) {
    if (!isSameProcess(r.pid, r.startTime)) {
      // The replica itself is gone, but what it started may live on in its process group (a
      // shell's children, a server's workers) and hold its ports. Linux does not hand out a PID
      // while a group of that id exists, so members of group r.pid that started after the
      // replica are its descendants.
      if (isGone(r.pid) && leftoverMembers(r.pid, r.startTime, project).length > 0 && r.pid > 1)
        groups.push({ name: r.name, pgid: r.pid });
      else result.skipped.push(r.name);
      continue;
    }
    if (!isHerdProcess(r.pid, project, r.service)) {
      result.skipped.push(r.name);
      continue;
    }
    // Replicas lead their own group; signal the group the verified process is in.
    const pgid = readStat(r.pid)?.pgid ?? r.pid;
    if (pgid <= 1 || pgid === process.pid) {
      result.skipped.push(r.name);
      continue;
    }
    groups.push({ name: r.name, pgid });
  }
  for (const g of groups) signalGroup(g.pgid, 'SIGTERM');
  await Promise.all(
    groups.map(async (g) => {
      if (!(await waitGroupGone(g.pgid, graceMs))) {
        signalGroup(g.pgid, 'SIGKILL');
        await waitGroupGone(g.pgid, 2_000);
      }
      result.stopped.push(g.name);
    }),
  );
  return result;
}
