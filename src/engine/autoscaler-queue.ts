// The `redis_list` target, what KEDA's Redis list scaler does: the daemon reads the list's length
// every second (metrics/queues.ts) and the autoscaler asks for ceil(length / target) replicas, with
// the HPA's tolerance, bounds and cooldown like every other target. A list that cannot be read is
// no measurement (the count stays), said once in `herd events` and once more when it reads again.
import type { Autoscale } from '../compose/autoscale.ts';
import { TOLERANCE, type MetricReading } from './autoscaler-decide.ts';

export const QUEUE_METRIC = 'redis_list';

/** One service's list now: its length, or why it could not be read. */
export type QueueReading = { length: number } | { error: string };

/** The list as a reading: `value` is the whole length (not per replica); `measured` 0: unread. */
export function queueReading(a: Autoscale, q: QueueReading | undefined): MetricReading | undefined {
  if (!a.redisList) return undefined;
  const length = q && 'length' in q ? q.length : undefined;
  return {
    metric: QUEUE_METRIC,
    target: a.redisList.target,
    value: length ?? 0,
    measured: length === undefined ? 0 : 1,
    missing: 0,
  };
}

/** The HPA's rule for an external metric with an average-value target (how KEDA's scalers
 * work): ceil(length / target), unchanged within the tolerance of the current count. */
export function recommendQueue(current: number, r: MetricReading): number {
  if (r.measured === 0) return current;
  if (current > 0 && Math.abs(1 - r.value / (r.target * current)) <= TOLERANCE) return current;
  return Math.ceil(r.value / r.target);
}

/** The reading in a decision's reason. */
export function describeQueue(r: MetricReading, a: Autoscale): string {
  const list = a.redisList?.list ?? '';
  return `redis_list ${list} has ${r.value} item${r.value === 1 ? '' : 's'}, target ${r.target} per replica`;
}

/** Tells of a list that cannot be read, once per cause, and of the first reading after that. */
export class QueueTrouble {
  private readonly failing = new Map<string, string>();

  constructor(private readonly notice: (service: string, message: string) => void) {}

  heard(service: string, a: Autoscale | undefined, q: QueueReading | undefined): void {
    if (!a?.redisList || !q) return;
    const was = this.failing.get(service);
    const list = a.redisList.list;
    if ('error' in q) {
      if (was === q.error) return;
      this.failing.set(service, q.error);
      this.notice(
        service,
        `autoscale: cannot read the length of redis list "${list}": ${q.error}; keeping the replica count until it can`,
      );
    } else if (was !== undefined) {
      this.failing.delete(service);
      this.notice(service, `autoscale: reading redis list "${list}" again (${q.length} items)`);
    }
  }
}
