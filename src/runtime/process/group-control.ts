// Signalling a process replica's whole process group: what a replica this daemon started and one
// it adopted from a daemon that died have in common (every replica leads its own group).
import { constants } from 'node:os';
import { safeDelay } from '../../util/timers.ts';
import type { ExitInfo } from '../types.ts';
import type { ReplicaCgroup } from './replica-cgroup.ts';

export function signalNumber(sig: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[sig] ?? 0;
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** The cgroup freezer where the replica has a cgroup that offers it (it also holds what left
 * the group), else SIGSTOP/SIGCONT to the group, as Docker's pause without a freezer would. */
export function freezeGroup(pgid: number, cgroup: ReplicaCgroup | undefined, on: boolean): void {
  if (!cgroup?.freeze(on)) killGroup(pgid, on ? 'SIGSTOP' : 'SIGCONT');
}

/** Graceful stop: `signal` to the group, SIGKILL after `graceMs`, then SIGKILL again for
 * grandchildren that ignored the signal; resolves with the exit once `exited` does. */
export async function stopGroup(
  pgid: number,
  signal: NodeJS.Signals,
  graceMs: number,
  exited: Promise<ExitInfo>,
): Promise<ExitInfo> {
  killGroup(pgid, signal);
  const timer = setTimeout(() => killGroup(pgid, 'SIGKILL'), safeDelay(graceMs));
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
    killGroup(pgid, 'SIGKILL');
  }
}
