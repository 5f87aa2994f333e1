// `deploy.update_config` and `deploy.rollback_config`, read as Docker Swarm defines them: how a
// changed definition replaces running replicas (batches of `parallelism`, `delay` between them,
// `order`), how long each new replica is watched (`monitor`), and what a failure does
// (`failure_action` once more than `max_failure_ratio` of the replicas failed). Only the keys
// that are written are kept; engine/update-settings.ts fills in Swarm's defaults.
import type { Checker } from './check.ts';
import { readDuration } from './durations.ts';
import { join } from './interpolate-tree.ts';
import { describe, type CNode } from './yaml-source.ts';

export type FailureAction = 'pause' | 'continue' | 'rollback';
export type UpdateOrder = 'start-first' | 'stop-first';

export interface UpdateConfig {
  /** Replicas replaced at the same time; 0: all at once (Swarm). */
  parallelism?: number;
  /** Pause between two batches. */
  delayMs?: number;
  failureAction?: FailureAction;
  /** How long each new replica is watched for an exit or unhealthy status. */
  monitorMs?: number;
  /** The share of replicas that may fail before `failureAction` is taken (0 to 1). */
  maxFailureRatio?: number;
  order?: UpdateOrder;
}

/** Swarm's defaults (`docker service create --update-*` / `--rollback-*`), for both blocks. */
export const SWARM_UPDATE_DEFAULTS: Required<UpdateConfig> = {
  parallelism: 1,
  delayMs: 0,
  failureAction: 'pause',
  monitorMs: 5000,
  maxFailureRatio: 0,
  order: 'stop-first',
};

export const UPDATE_CONFIG_KEYS = [
  'parallelism',
  'delay',
  'failure_action',
  'monitor',
  'max_failure_ratio',
  'order',
];

/** Reads one block; `rollback`: rollback_config, whose failure_action cannot be rollback. */
export function readUpdateConfig(
  node: CNode,
  path: string,
  c: Checker,
  rollback: boolean,
): UpdateConfig | undefined {
  const map = c.map(node, path);
  if (!map) return undefined;
  c.keys(map, path, UPDATE_CONFIG_KEYS);
  const out: UpdateConfig = {};
  const get = (k: string) => map.entries.get(k)?.value;
  const n = get('parallelism');
  if (n)
    out.parallelism = c.int(n, join(path, 'parallelism'), 'a whole number ≥ 0 (0: all at once)');
  const delay = get('delay');
  if (delay) out.delayMs = readDuration(delay, join(path, 'delay'), c);
  const monitor = get('monitor');
  if (monitor) out.monitorMs = readDuration(monitor, join(path, 'monitor'), c);
  const action = get('failure_action');
  if (action) {
    const allowed = rollback ? ['pause', 'continue'] : ['pause', 'continue', 'rollback'];
    const s = action.kind === 'scalar' ? action.value : undefined;
    if (typeof s === 'string' && allowed.includes(s)) out.failureAction = s as FailureAction;
    else c.fail(action, join(path, 'failure_action'), quotedChoice(allowed));
  }
  const ratio = get('max_failure_ratio');
  if (ratio) out.maxFailureRatio = readRatio(ratio, join(path, 'max_failure_ratio'), c);
  const order = get('order');
  if (order) {
    const s = order.kind === 'scalar' ? order.value : undefined;
    if (s === 'start-first' || s === 'stop-first') out.order = s;
    else c.fail(order, join(path, 'order'), '"start-first" or "stop-first"');
  }
  for (const k of Object.keys(out) as (keyof UpdateConfig)[])
    if (out[k] === undefined) delete out[k];
  return out;
}

function readRatio(node: CNode, path: string, c: Checker): number | undefined {
  const v = node.kind === 'scalar' ? node.value : undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (Number.isFinite(n) && n >= 0 && n <= 1) return n;
  c.diag.error(
    node.pos,
    path,
    `expected a number from 0 to 1 (the share of replicas that may fail), got ${describe(node)}`,
  );
  return undefined;
}

/** ["a", "b", "c"] → `"a", "b" or "c"`. */
function quotedChoice(words: string[]): string {
  const q = words.map((w) => `"${w}"`);
  return `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}
