// CPU and memory of each replica, summed over its whole process group (a replica started through
// a shell or a process manager is many processes).
import { readdirSync, readFileSync } from 'node:fs';
import { readStat, type ProcStat } from '../util/process-identity.ts';

/** USER_HZ: Linux reports utime/stime in 1/100 s on every mainstream architecture. */
export const TICKS_PER_SECOND = 100;

export interface GroupStats {
  pgid: number;
  pids: number[];
  /** utime + stime of every member, in ticks. */
  cpuTicks: number;
  rssBytes: number;
}

export interface ProcessRow {
  pid: number;
  ppid: number;
  uid: number;
  rssBytes: number;
  cpuSeconds: number;
  state: string;
  command: string;
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s) out.push(s);
  }
  return out;
}

function statusFields(pid: number): { rssBytes: number; uid: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
    const uid = /^Uid:\s+(\d+)/m.exec(text);
    return { rssBytes: rss ? Number(rss[1]) * 1024 : 0, uid: uid ? Number(uid[1]) : -1 };
  } catch {
    return { rssBytes: 0, uid: -1 };
  }
}

function commandLine(pid: number, comm: string): string {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.split('\0').filter((a) => a !== '');
    return argv.length ? argv.join(' ') : `[${comm}]`;
  } catch {
    return `[${comm}]`;
  }
}

/** Current totals for each requested process group (groups with no live member are omitted). */
export function groupStats(pgids: number[]): Map<number, GroupStats> {
  const wanted = new Set(pgids);
  const out = new Map<number, GroupStats>();
  for (const s of allStats()) {
    if (!wanted.has(s.pgid) || s.state === 'Z') continue;
    let g = out.get(s.pgid);
    if (!g) out.set(s.pgid, (g = { pgid: s.pgid, pids: [], cpuTicks: 0, rssBytes: 0 }));
    g.pids.push(s.pid);
    g.cpuTicks += s.utime + s.stime;
    g.rssBytes += statusFields(s.pid).rssBytes;
  }
  return out;
}

/** The processes of one group, for `herd top`. */
export function groupProcesses(pgid: number): ProcessRow[] {
  return allStats()
    .filter((s) => s.pgid === pgid && s.state !== 'Z')
    .map((s) => {
      const { rssBytes, uid } = statusFields(s.pid);
      return {
        pid: s.pid,
        ppid: s.ppid,
        uid,
        rssBytes,
        cpuSeconds: (s.utime + s.stime) / TICKS_PER_SECOND,
        state: s.state,
        command: commandLine(s.pid, s.comm),
      };
    });
}

export interface ReplicaUsage {
  cpuPercent: number;
  rssBytes: number;
}

/** CPU % needs two samples; the sampler keeps the previous one so repeated `ps` calls are cheap,
 * and takes a short fresh window when the last sample is missing or old. */
export class UsageSampler {
  private last = new Map<number, { at: number; ticks: number }>();

  constructor(
    private readonly windowMs = 200,
    private readonly maxAgeMs = 10_000,
  ) {}

  async sample(pgids: number[]): Promise<Map<number, ReplicaUsage>> {
    const now = Date.now();
    const stale = pgids.some((p) => {
      const prev = this.last.get(p);
      return !prev || now - prev.at > this.maxAgeMs || now - prev.at < 1;
    });
    if (stale) {
      this.remember(groupStats(pgids), Date.now());
      await new Promise((r) => setTimeout(r, this.windowMs));
    }
    const at = Date.now();
    const current = groupStats(pgids);
    const out = new Map<number, ReplicaUsage>();
    for (const [pgid, g] of current) {
      const prev = this.last.get(pgid);
      const secs = prev ? (at - prev.at) / 1000 : 0;
      const cpu = prev && secs > 0 ? (g.cpuTicks - prev.ticks) / TICKS_PER_SECOND / secs : 0;
      out.set(pgid, { cpuPercent: Math.max(0, cpu * 100), rssBytes: g.rssBytes });
    }
    this.remember(current, at);
    for (const pgid of this.last.keys()) if (!current.has(pgid)) this.last.delete(pgid);
    return out;
  }

  private remember(stats: Map<number, GroupStats>, at: number): void {
    for (const [pgid, g] of stats) this.last.set(pgid, { at, ticks: g.cpuTicks });
  }
}
