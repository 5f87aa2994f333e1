// What `apply` must do when the compose file changed: which services are new, gone, changed or
// untouched. A service changed when the hash of its normalized definition changed; the hash leaves
// out what does not change a replica (scale, and the rollout/autoscale settings under x-herd).
import { createHash } from 'node:crypto';
import type { Project, Service } from '../compose/model.ts';

/** Keys of `x-herd` that say how to run replicas, not what they are. */
const HERD_EXTRA_IGNORED = ['rollout', 'autoscale'];

/** JSON with object keys sorted at every level, so equal definitions give equal text. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

export function serviceHash(service: Service): string {
  // How replicas are replaced is not what they are: update/rollback_config change no replica.
  const { scale: _scale, updateConfig: _u, rollbackConfig: _r, ...rest } = service;
  const extra = Object.fromEntries(
    Object.entries(service.herd.extra).filter(([k]) => !HERD_EXTRA_IGNORED.includes(k)),
  );
  const normalized = { ...rest, herd: { ...service.herd, extra } };
  return createHash('sha256').update(stableJson(normalized)).digest('hex');
}

export interface ApplyPlan {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export function planApply(current: Project, next: Project): ApplyPlan {
  const plan: ApplyPlan = { added: [], removed: [], changed: [], unchanged: [] };
  for (const [name, svc] of Object.entries(next.services)) {
    const before = current.services[name];
    if (!before) plan.added.push(name);
    else if (serviceHash(before) !== serviceHash(svc)) plan.changed.push(name);
    else plan.unchanged.push(name);
  }
  for (const name of Object.keys(current.services)) {
    if (!next.services[name]) plan.removed.push(name);
  }
  return plan;
}
