// cgroup v1: one hierarchy per controller (or a few co-mounted), each with its own files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CFS_PERIOD_US,
  cfsQuotaUs,
  clampShares,
  memswapOf,
  type CgroupLimits,
  type Controller,
  type Setting,
} from './cgroup-limits.ts';

/** What a replica's cgroup in the hierarchy of `controller` is given. */
export function v1Settings(controller: Controller, limits: CgroupLimits): Setting[] {
  const out: Setting[] = [];
  if (controller === 'memory') {
    // The hard limit first: memory+swap may never be set below it.
    if (limits.memoryBytes !== undefined)
      out.push({ file: 'memory.limit_in_bytes', value: String(limits.memoryBytes) });
    const memswap = memswapOf(limits);
    if (memswap !== undefined)
      out.push({
        file: 'memory.memsw.limit_in_bytes',
        value: memswap === 'unlimited' ? '-1' : String(memswap),
        optional: true,
        askedBy: limits.memswapBytes !== undefined ? 'memswap_limit' : undefined,
      });
    if (limits.memoryReservationBytes !== undefined)
      out.push({
        file: 'memory.soft_limit_in_bytes',
        value: String(limits.memoryReservationBytes),
      });
  } else if (controller === 'cpu') {
    if (limits.cpus !== undefined) {
      out.push({ file: 'cpu.cfs_period_us', value: String(CFS_PERIOD_US) });
      out.push({ file: 'cpu.cfs_quota_us', value: String(cfsQuotaUs(limits.cpus)) });
    }
    if (limits.cpuShares !== undefined)
      out.push({ file: 'cpu.shares', value: String(clampShares(limits.cpuShares)) });
  } else if (limits.pids !== undefined) {
    out.push({ file: 'pids.max', value: String(limits.pids) });
  }
  return out;
}

/** OOM kills the kernel made in a v1 memory cgroup (memory.oom_control's counter, Linux ≥ 4.13);
 * 0 when it cannot be read. */
export function v1OomKills(memoryDir: string): number {
  try {
    const text = readFileSync(path.join(memoryDir, 'memory.oom_control'), 'utf8');
    return Number(/^oom_kill (\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
