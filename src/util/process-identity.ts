// Is a recorded PID still the process we started? PIDs are reused, so a PID alone proves nothing;
// the kernel's start time (in clock ticks since boot) together with the PID does.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  utime: number;
  stime: number;
  /** Field 22: start time in clock ticks after boot. */
  startTime: number;
}

/** Parses /proc/<pid>/stat text. `comm` may hold spaces and parens, so fields are counted from the
 * last ')'. */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const field = (n: number) => Number(rest[n - 3]);
  const stat: ProcStat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    pgid: field(5),
    utime: field(14),
    stime: field(15),
    startTime: field(22),
  };
  return Number.isFinite(stat.startTime) && Number.isFinite(stat.pgid) ? stat : undefined;
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone (ENOENT/ESRCH) or not ours to read
  }
}

/** The start time to record next to a PID, or undefined when the process is already gone. */
export function processStartTime(pid: number): number | undefined {
  return readStat(pid)?.startTime;
}

/** True only when `pid` exists, is not a zombie, and started at `startTime`. */
export function isSameProcess(pid: number, startTime: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.startTime === startTime;
}

/** The environment `pid` was started with (/proc/<pid>/environ); undefined when gone or not
 * ours to read. */
export function readEnviron(pid: number): Map<string, string> | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const env = new Map<string, string>();
  for (const kv of raw.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return env;
}

/** True when `pid` was started by herd for `project` (and `service`, when given): herd puts
 * HERD_PROJECT and HERD_SERVICE in every process replica's environment. A state file naming
 * any other process (forged, or a PID reused since) never gets it signalled. */
export function isHerdProcess(pid: number, project: string, service?: string): boolean {
  const env = readEnviron(pid);
  return (
    env !== undefined &&
    env.get('HERD_PROJECT') === project &&
    (service === undefined || env.get('HERD_SERVICE') === service)
  );
}

/** PIDs of every live process in process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids; // no /proc to read: nothing can be found
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgid === pgid && stat.state !== 'Z') pids.push(stat.pid);
  }
  return pids;
}

/** What a replica that led group `pgid` (started at `startTime`) left in it once it is gone: the
 * members that started after it and carry herd's environment for `project`. Linux hands out no
 * PID while a group of that id exists, so these are its descendants, never a stranger. */
export function leftoverMembers(pgid: number, startTime: number, project: string): number[] {
  return groupMembers(pgid).filter(
    (pid) => (readStat(pid)?.startTime ?? -1) >= startTime && isHerdProcess(pid, project),
  );
}

/** True while a process with this PID exists (a zombie included; another user's too). */
export function pidExists(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
