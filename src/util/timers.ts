// Node fires a timer after 1 ms when its delay is ≥ 2^31 ms (~24.8 days), so a huge
// user-given duration (stop_grace_period: 30d) would mean "now"; clamped it means "never".

/** The longest delay setTimeout/setInterval honour. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay safe to pass to setTimeout: at most MAX_TIMER_MS, never negative or NaN. */
export function safeDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}

/** A deadline for I/O: `fn` runs `ms` from now, but only after the event loop has read what
 * arrived meanwhile. After a stall of this process (CPU starvation while replicas boot, a long GC)
 * Node runs due timers before it polls sockets, so a plain timer would call an answer that is
 * already waiting in the socket late. Returns a cancel function (safe to call at any time). */
export function ioDeadline(ms: number, fn: () => void): () => void {
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(fn);
  }, safeDelay(ms));
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}
