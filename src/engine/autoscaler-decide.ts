// The HorizontalPodAutoscaler's decision, for one service and one metric, then its behaviour
// (stabilization, step limits, bounds) over the recommendations of every metric. Pure: the
// autoscaler (autoscaler.ts) feeds it measurements and a clock reading, and tests feed it numbers.

/** The HPA's default tolerance: a ratio within 10 % of the target changes nothing. */
export const TOLERANCE = 0.1;
/** The HPA's default scale-up policies: per 15 s, at most double or add 4 (whichever is more). */
export const SCALE_UP_PERIOD_MS = 15_000;
const SCALE_UP_PERCENT = 100;
const SCALE_UP_PODS = 4;

/** One metric of one service, measured over the averaging window. */
export interface MetricReading {
  /** `rps`, `cpu` or `memory`, for the reason text. */
  metric: string;
  target: number;
  /** The metric's average over the ready replicas that were measured. */
  value: number;
  /** Replicas that were measured (ready ones). */
  measured: number;
  /** Live replicas that were not (starting, not ready): they do not count as capacity. */
  missing: number;
}

/** What one metric asks for: the HPA's replica calculation. */
export function recommend(current: number, r: MetricReading): number {
  if (r.measured === 0) return current;
  const ratio = r.value / r.target;
  if (r.missing === 0) {
    if (Math.abs(1 - ratio) <= TOLERANCE) return current;
    return Math.ceil(ratio * r.measured);
  }
  // Replicas without a measurement: on the way up they count as idle, on the way down as at the
  // target, so neither a replica still starting nor one still warming up moves the count the
  // wrong way (the HPA's rule for missing pods).
  const assumed = ratio > 1 ? 0 : r.target;
  const total = r.measured + r.missing;
  const next = (r.value * r.measured + assumed * r.missing) / r.target / total;
  if (Math.abs(1 - next) <= TOLERANCE || (ratio < 1 && next > 1) || (ratio > 1 && next < 1))
    return current;
  const n = Math.ceil(next * total);
  if ((next < 1 && n > current) || (next > 1 && n < current)) return current;
  return n;
}

export interface Recommendation {
  at: number;
  replicas: number;
}

export interface Bounds {
  min: number;
  max: number;
  /** The scale-down stabilization window. */
  cooldownMs: number;
}

/** A past change of the desired count, for the per-period scale-up limit. */
export interface Change {
  at: number;
  from: number;
  to: number;
}

/** Why the count is what it is, for `ps` and `events`. */
export type Limit = 'max' | 'min' | 'step' | 'cooldown' | undefined;

/**
 * The HPA's behaviour over the recommendations (newest last, kept for at least the cooldown):
 * up at once to the newest recommendation, down only to the highest recommendation of the
 * cooldown window (so the metric must have stayed low that long), at most double or +4 per 15 s
 * going up, and always within [min, max].
 */
export function stabilize(
  now: number,
  current: number,
  recommendations: Recommendation[],
  changes: Change[],
  b: Bounds,
): { replicas: number; limit: Limit } {
  const newest = recommendations[recommendations.length - 1]?.replicas ?? current;
  const windowStart = now - b.cooldownMs;
  const down = Math.max(
    newest,
    ...recommendations.filter((r) => r.at > windowStart).map((r) => r.replicas),
  );
  let replicas = current;
  let limit: Limit;
  if (newest > current) replicas = newest;
  else if (down < current) replicas = down;
  if (newest < current && down > newest) limit = 'cooldown';
  if (replicas > current) {
    const ceiling = scaleUpLimit(now, current, changes);
    if (replicas > ceiling) [replicas, limit] = [ceiling, 'step'];
  }
  if (replicas > b.max) [replicas, limit] = [b.max, 'max'];
  if (replicas < b.min) [replicas, limit] = [b.min, 'min'];
  return { replicas, limit };
}

/** The most replicas allowed now: from the count at the start of the last 15 s, double or +4. */
function scaleUpLimit(now: number, current: number, changes: Change[]): number {
  const recent = changes.filter((c) => c.at > now - SCALE_UP_PERIOD_MS);
  const added = recent.reduce((sum, c) => sum + Math.max(0, c.to - c.from), 0);
  const start = current - added;
  return Math.max(start + SCALE_UP_PODS, Math.ceil(start * (1 + SCALE_UP_PERCENT / 100)));
}
