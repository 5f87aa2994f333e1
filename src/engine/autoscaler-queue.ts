// The `redis_list` target, what KEDA's Redis list scaler does: the daemon reads the list's length
// every second (metrics/queues.ts) and the autoscaler asks for ceil(length / target) replicas, with
// the HPA's tolerance, bounds and cooldown like every other target. A list that cannot be read is
// no measurement (the count stays), said in `herd events` once it has lasted a few readings, and
// again when the list reads.
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

/** Readings in a row that must fail before it is news: a Redis that is still starting (the
 * autoscaler starts with the stack) or restarting is not. */
export const QUEUE_TROUBLE_READINGS = 3;

/** Tells of a list that cannot be read, once per cause, and of the first reading after that. */
export class QueueTrouble {
  private readonly failing = new Map<string, { streak: number; said?: string }>();

  constructor(private readonly notice: (service: string, message: string) => void) {}

  heard(service: string, a: Autoscale | undefined, q: QueueReading | undefined): void {
    if (!a?.redisList || !q) return;
    const f = this.failing.get(service);
    const list = a.redisList.list;
    if ('length' in q) {
      this.failing.delete(service);
      if (f?.said !== undefined)
        this.notice(service, `autoscale: reading redis list "${list}" again (${q.length} items)`);
      return;
    }
    const now = { streak: (f?.streak ?? 0) + 1, said: f?.said };
    this.failing.set(service, now);
    if (now.streak < QUEUE_TROUBLE_READINGS || now.said === q.error) return;
    now.said = q.error;
    this.notice(
      service,
      `autoscale: cannot read the length of redis list "${list}": ${q.error}; keeping the replica count until it can`,
    );
  }
}
