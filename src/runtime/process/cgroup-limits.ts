// The limits a process replica's cgroup enforces, taken from its spec, and the controllers they
// need. What each cgroup version writes for them is in cgroup-v1.ts and cgroup-v2.ts.
import type { ReplicaSpec } from '../types.ts';

export type Controller = 'memory' | 'cpu' | 'pids';

export interface CgroupLimits {
  memoryBytes?: number;
  /** Memory + swap; -1: unlimited swap; undefined: as much swap as memory (Docker's default). */
  memswapBytes?: number;
  memoryReservationBytes?: number;
  cpus?: number;
  cpuShares?: number;
  pids?: number;
}

/** One write into a cgroup directory; they are made in order (memory before memory+swap). */
export interface Setting {
  file: string;
  value: string;
  /** Skipped when the kernel has no such file (swap accounting off): what it sets then cannot
   * apply, and nothing herd promised depends on it. */
  optional?: boolean;
  /** The compose key that asked for it explicitly: a skipped optional setting is warned about. */
  askedBy?: string;
}

/** CFS period, as Docker uses: `cpus: 0.5` is a quota of 50 ms every 100 ms. */
export const CFS_PERIOD_US = 100_000;
/** The kernel refuses a quota below 1 ms. */
const MIN_CFS_QUOTA_US = 1_000;

export function limitsOf(spec: ReplicaSpec): CgroupLimits {
  const limits: CgroupLimits = {
    memoryBytes: spec.memoryLimitBytes,
    memswapBytes: spec.memswapLimitBytes,
    memoryReservationBytes: spec.memoryReservationBytes,
    // Compose's 0 means "no limit" for all three.
    cpus: spec.cpus !== undefined && spec.cpus > 0 ? spec.cpus : undefined,
    cpuShares: spec.cpuShares !== undefined && spec.cpuShares > 0 ? spec.cpuShares : undefined,
    pids: spec.pidsLimit !== undefined && spec.pidsLimit > 0 ? spec.pidsLimit : undefined,
  };
  for (const k of Object.keys(limits) as (keyof CgroupLimits)[])
    if (limits[k] === undefined) delete limits[k];
  return limits;
}

/** The controllers `limits` need, each with the compose keys that asked for it (for warnings). */
export function neededControllers(limits: CgroupLimits): Map<Controller, string[]> {
  const needed = new Map<Controller, string[]>();
  const add = (c: Controller, key: string) => needed.set(c, [...(needed.get(c) ?? []), key]);
  if (limits.memoryBytes !== undefined) add('memory', 'memory limit');
  if (limits.memswapBytes !== undefined) add('memory', 'memswap_limit');
  if (limits.memoryReservationBytes !== undefined) add('memory', 'mem_reservation');
  if (limits.cpus !== undefined) add('cpu', 'cpus');
  if (limits.cpuShares !== undefined) add('cpu', 'cpu_shares');
  if (limits.pids !== undefined) add('pids', 'pids_limit');
  return needed;
}

/** CFS quota in microseconds per CFS_PERIOD_US for a number of CPUs. */
export function cfsQuotaUs(cpus: number): number {
  return Math.max(MIN_CFS_QUOTA_US, Math.round(cpus * CFS_PERIOD_US));
}

/** memory+swap in bytes, "unlimited", or undefined (no memory limit to add swap to). Without a
 * `memswap_limit` the replica may swap as much as its memory limit, as Docker allows. */
export function memswapOf(limits: CgroupLimits): number | 'unlimited' | undefined {
  if (limits.memoryBytes === undefined) return undefined;
  if (limits.memswapBytes === -1) return 'unlimited';
  return limits.memswapBytes ?? 2 * limits.memoryBytes;
}

/** Docker's range for cpu_shares (v1 cpu.shares). */
export function clampShares(shares: number): number {
  return Math.min(262_144, Math.max(2, Math.round(shares)));
}
