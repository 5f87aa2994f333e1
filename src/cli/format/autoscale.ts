// `herd ps`'s lines under the table for autoscaled services: the bounds, what the metric reads now
// against its target, and the last decision with its reason and age.
import type { PsResponse } from '../../daemon/api-types.ts';
import { QUEUE_METRIC } from '../../engine/autoscaler-queue.ts';
import { humanDuration } from './duration.ts';

const UNIT: Record<string, string> = { rps: ' req/s', cpu: ' %', memory: ' %' };

export function formatAutoscaling(ps: PsResponse): string {
  const list = ps.autoscaling ?? [];
  if (list.length === 0) return '';
  const lines = list.map((a) => {
    const zero = scaledToZero(a, ps.now);
    if (zero) return zero;
    const now = a.readings
      .map((r) => {
        if (r.metric === QUEUE_METRIC)
          return `redis_list ${r.measured > 0 ? `${r.value} items` : 'not read'} (target ${r.target} per replica)`;
        const unit = UNIT[r.metric] ?? '';
        const value =
          r.measured > 0 ? `${Math.round(r.value * 10) / 10}${unit}` : 'not measured yet';
        return `${r.metric} ${value} per replica (target ${r.target}${unit})`;
      })
      .join(', ');
    const last = a.last
      ? `; last decision ${humanDuration(ps.now - a.last.at).toLowerCase()} ago: ${a.last.reason}`
      : '';
    return `  ${a.service}: ${a.desired} wanted (min ${a.min}, max ${a.max})${now ? `; ${now}` : ''}${last}\n`;
  });
  return `\nAutoscaling:\n${lines.join('')}`;
}

/** A service scaled to zero is idle, not stopped: say so, and what brings it back. */
function scaledToZero(a: NonNullable<PsResponse['autoscaling']>[number], now: number): string {
  const since = a.idle?.zeroSince;
  if (since === undefined) return '';
  const idle = humanDuration(a.idle!.idleMs).toLowerCase();
  return (
    `  ${a.service}: scaled to zero (idle) ${humanDuration(now - since).toLowerCase()} ago, ` +
    `after ${idle} without a request; the next request starts a replica (min ${a.min}, max ${a.max})\n`
  );
}
