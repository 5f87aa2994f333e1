// cgroup v2: one tree; a cgroup gets a controller only when its parent lists it in
// cgroup.subtree_control, and a cgroup with processes cannot hand controllers down (except the
// root), so herd's cgroups hang under a directory of their own that holds no process.
import { readFileSync, writeFileSync } from 'node:fs';
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

/** What a replica's v2 cgroup is given, for the controllers it has. */
export function v2Settings(limits: CgroupLimits, controllers: readonly Controller[]): Setting[] {
  const out: Setting[] = [];
  if (controllers.includes('memory')) {
    if (limits.memoryBytes !== undefined)
      out.push({ file: 'memory.max', value: String(limits.memoryBytes) });
    const memswap = memswapOf(limits);
    if (memswap !== undefined && limits.memoryBytes !== undefined)
      out.push({
        // v2 limits swap alone: memory+swap minus memory.
        file: 'memory.swap.max',
        value: memswap === 'unlimited' ? 'max' : String(Math.max(0, memswap - limits.memoryBytes)),
        optional: true,
        askedBy: limits.memswapBytes !== undefined ? 'memswap_limit' : undefined,
      });
    if (limits.memoryReservationBytes !== undefined)
      out.push({ file: 'memory.low', value: String(limits.memoryReservationBytes) });
    // An OOM kill takes the whole replica, as the leader's exit would: no half-killed group.
    if (limits.memoryBytes !== undefined)
      out.push({ file: 'memory.oom.group', value: '1', optional: true });
  }
  if (controllers.includes('cpu')) {
    if (limits.cpus !== undefined)
      out.push({ file: 'cpu.max', value: `${cfsQuotaUs(limits.cpus)} ${CFS_PERIOD_US}` });
    if (limits.cpuShares !== undefined)
      out.push({ file: 'cpu.weight', value: String(sharesToWeight(limits.cpuShares)) });
  }
  if (controllers.includes('pids') && limits.pids !== undefined)
    out.push({ file: 'pids.max', value: String(limits.pids) });
  return out;
}

/** cpu.shares [2, 262144] → cpu.weight [1, 10000], the conversion runc and Kubernetes use. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((clampShares(shares) - 2) * 9999) / 262_142);
}

/** Controllers a v2 cgroup may hand to its children (its cgroup.controllers). */
export function v2Controllers(dir: string): string[] {
  try {
    return readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return [];
  }
}

/** Hands `wanted` (those `dir` has) down to `dir`'s children; returns the ones its children
 * get. Each is asked for alone: one the kernel refuses must not cost the others. */
export function enableForChildren(dir: string, wanted: readonly Controller[]): Controller[] {
  const has = v2Controllers(dir);
  const enabled: Controller[] = [];
  for (const c of wanted) {
    if (!has.includes(c)) continue;
    try {
      writeFileSync(path.join(dir, 'cgroup.subtree_control'), `+${c}`);
      enabled.push(c);
    } catch {
      // EBUSY (processes in dir), EACCES, ENOENT: this controller stays out of reach.
    }
  }
  return enabled;
}

/** OOM kills in a v2 cgroup (memory.events, which also counts its descendants'). */
export function v2OomKills(dir: string): number {
  try {
    const text = readFileSync(path.join(dir, 'memory.events'), 'utf8');
    return Number(/^oom_kill (\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
