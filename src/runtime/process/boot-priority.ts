// A process replica boots at a low priority and gets the normal one back once it is ready. On a
// small machine a batch of Node processes starting (parsing, compiling, JIT: a core each for a
// few hundred ms) otherwise takes the CPU from the replicas already serving and from the proxy,
// and requests wait. Each replica leads a session of its own (detached), so under autogroup
// scheduling (util/autogroup.ts) its session's nice is what weighs against the others; raising it
// is permitted to anyone, and so is setting it back to 0, so this works without privileges. A
// replica at work is never slowed: the priority comes back at `ready` or after BOOT_MAX_MS.
import { autogroupNice, setAutogroupNice } from '../../util/autogroup.ts';

/** The autogroup nice a replica boots at (weight 110 against 1024 at 0: about a tenth). */
export const BOOT_NICE = 10;
/** The longest a replica runs at BOOT_NICE, for one that never reports ready (a worker service
 * without a port or health check is ready as it starts; this is the backstop). */
export const BOOT_MAX_MS = 30_000;

const booting = new Map<number, NodeJS.Timeout>();

/** Lowers a just-spawned replica (the leader of its own session) while it boots. */
export function lowerWhileBooting(pid: number): void {
  if (booting.has(pid) || !setAutogroupNice(pid, BOOT_NICE)) return;
  const timer = setTimeout(() => booted(pid), BOOT_MAX_MS);
  timer.unref();
  booting.set(pid, timer);
}

/** Tries to set the priority back this many times, RESET_RETRY_MS apart: without CAP_SYS_ADMIN
 * the kernel takes one autogroup change per 100 ms on the whole machine (EAGAIN), and a batch of
 * replicas gets ready at once. */
const RESET_TRIES = 40;
const RESET_RETRY_MS = 150;

/** The replica is ready: its session gets the normal priority back. Also a replica this daemon
 * did not start (adopted after a daemon died while it booted: the timer died with that daemon),
 * found by its session still being at BOOT_NICE. */
export function booted(pid: number): void {
  const timer = booting.get(pid);
  clearTimeout(timer);
  booting.delete(pid);
  if (timer === undefined && autogroupNice(pid) !== BOOT_NICE) return;
  resetPriority(pid, RESET_TRIES);
}

function resetPriority(pid: number, tries: number): void {
  if (setAutogroupNice(pid, 0) || tries <= 1 || autogroupNice(pid) === undefined) return;
  setTimeout(() => resetPriority(pid, tries - 1), RESET_RETRY_MS).unref();
}

/** The replica exited while booting: nothing to set back (its pid may soon be another's). */
export function forgetBoot(pid: number): void {
  clearTimeout(booting.get(pid));
  booting.delete(pid);
}
