// Restart delays, as Docker does them: exponential from a base (100 ms), ×2 each time, capped
// at 60 s, back to the base once a replica stayed up long enough.

export const BACKOFF_BASE_MS = 100;
export const BACKOFF_CAP_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

export interface BackoffInput {
  /** The delay used before the previous restart; undefined for the first restart. */
  previousMs?: number;
  /** How long the replica ran before this exit. */
  uptimeMs: number;
  /** deploy.restart_policy.delay, when set. */
  baseMs?: number;
}

export function nextBackoff({ previousMs, uptimeMs, baseMs }: BackoffInput): number {
  const base = baseMs ?? BACKOFF_BASE_MS;
  const cap = Math.max(BACKOFF_CAP_MS, base);
  if (previousMs === undefined || uptimeMs >= BACKOFF_RESET_AFTER_MS) return base;
  // A zero base (delay: 0) stays zero: the user asked for immediate restarts.
  return Math.min(previousMs * 2, cap);
}

/** "100ms", "1.6s", "60s" for notices. */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}
