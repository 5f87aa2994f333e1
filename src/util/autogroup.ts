// Linux's autogroup scheduling (CONFIG_SCHED_AUTOGROUP, on when
// /proc/sys/kernel/sched_autogroup_enabled is 1, as on most desktop and many VM kernels): each
// session is a scheduling group, and CPU is shared between groups first, by the group's nice
// (/proc/<pid>/autogroup), and only then between the threads inside a group by their own nice.
// herd's proxy and every process replica lead a session of their own, so there a process's nice
// (setpriority) decides nothing between them: the group's nice is what counts.
import { readFileSync, writeFileSync } from 'node:fs';

let active: boolean | undefined;

/** Whether the kernel schedules by autogroup (cached: a sysctl nobody flips under a daemon). */
export function autogroupsActive(): boolean {
  if (active === undefined) {
    try {
      active = readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'latin1').trim() === '1';
    } catch {
      active = false; // not Linux, or a kernel without autogroups
    }
  }
  return active;
}

/** Sets the nice of the autogroup (session) `pid` belongs to. False when that is not possible:
 * no autogroups, the process is gone, a negative value without CAP_SYS_NICE (EPERM), or, without
 * CAP_SYS_ADMIN, a second change within 100 ms anywhere on the machine (EAGAIN). */
export function setAutogroupNice(pid: number | 'self', nice: number): boolean {
  if (!autogroupsActive()) return false;
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    return true;
  } catch {
    return false;
  }
}

/** The nice of the autogroup `pid` belongs to; undefined without autogroups or once it is gone.
 * (/proc/<pid>/autogroup reads `/autogroup-123 nice 10`.) */
export function autogroupNice(pid: number): number | undefined {
  if (!autogroupsActive()) return undefined;
  try {
    const m = / nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
