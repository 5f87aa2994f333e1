// `x-herd.autoscale`, the rules for a service's autoscaling settings: bounds (`min`, `max`), at
// least one target (`cpu` %, `memory` %, `rps` per replica, or a Redis list's length per replica)
// and the timings (`cooldown`, the scale-down stabilization; `window`, the averaging window; `idle`,
// for scale to zero). Pure over plain values, in the shape of herd-settings.ts, so the loader can
// report each problem at file:line:col and code built on a raw file (convert/) gets the same rules.
import { unknownKeyMessage } from './check.ts';
import { HerdError } from '../util/errors.ts';
import { mapping, show, type Checked, type SettingProblem } from './herd-settings.ts';
import { checkRedisUrl } from './redis-url.ts';
import { parseDuration } from './units.ts';

export interface RedisListTarget {
  url: string;
  list: string;
  /** Items per replica. */
  target: number;
}

export interface Autoscale {
  min: number;
  max: number;
  /** Average CPU per replica, % of one core (or of its `cpus` limit when set). */
  cpu?: number;
  /** Average memory per replica, % of its memory limit. */
  memory?: number;
  /** Requests per second per replica through the balancer. */
  rps?: number;
  redisList?: RedisListTarget;
  /** How long the metric must stay low before scaling down; undefined: the default. */
  cooldownMs?: number;
  /** The window metrics are averaged over; undefined: the default. */
  windowMs?: number;
  /** With `min: 0`: stop every replica after this long without a request. */
  idleMs?: number;
}

export const AUTOSCALE_KEYS = [
  'min',
  'max',
  'cpu',
  'memory',
  'rps',
  'redis_list',
  'cooldown',
  'window',
  'idle',
];
const REDIS_LIST_KEYS = ['url', 'list', 'target'];
/** The HPA's default scale-down stabilization window. */
export const DEFAULT_COOLDOWN_MS = 300_000;
const DEFAULT_MIN = 1;

/** Checks a service's raw `x-herd.autoscale` (undefined or null: not set → value undefined). */
export function checkAutoscale(raw: unknown): Checked<Autoscale | undefined> {
  const problems: SettingProblem[] = [];
  const out: Checked<Autoscale | undefined> = { value: undefined, problems };
  const map = mapping(raw, 'a mapping such as { min: 1, max: 4, cpu: 70 }', problems);
  if (!map) return out;
  for (const key of Object.keys(map))
    if (!AUTOSCALE_KEYS.includes(key))
      problems.push({ key, unknownKey: true, message: unknownKeyMessage(key, AUTOSCALE_KEYS) });
  const problem = (key: string, message: string) => problems.push({ key, message });

  const min = count(map.min, 'min', 0, problem) ?? DEFAULT_MIN;
  const max = map.max === undefined ? undefined : count(map.max, 'max', 1, problem);
  if (map.max === undefined) problem('max', 'is required: the most replicas autoscaling may run');
  else if (max !== undefined && max < min)
    problem('max', `must be at least min (${min}), got ${show(map.max)}`);
  const value: Autoscale = { min, max: max ?? min };
  for (const key of ['cpu', 'memory', 'rps'] as const) {
    const n = positive(map[key], key, problem);
    if (n !== undefined) value[key] = n;
  }
  if (map.redis_list !== undefined) value.redisList = redisList(map.redis_list, problem);
  // A target that was given but is wrong has its own problem already.
  if (!['cpu', 'memory', 'rps', 'redis_list'].some((k) => map[k] !== undefined))
    problems.push({
      message: 'needs a target to scale on: cpu (%), memory (%), rps (per replica) or redis_list',
    });
  const cooldown = duration(map.cooldown, 'cooldown', true, problem);
  if (cooldown !== undefined) value.cooldownMs = cooldown;
  const window = duration(map.window, 'window', false, problem);
  if (window !== undefined) value.windowMs = window;
  const idle = duration(map.idle, 'idle', false, problem);
  if (idle !== undefined) {
    if (min !== 0) problem('idle', `only applies with min: 0 (scale to zero), but min is ${min}`);
    else value.idleMs = idle;
  } else if (min === 0 && map.idle === undefined)
    problem('min', 'min: 0 (scale to zero) needs idle: how long without a request, e.g. idle: 10m');
  if (problems.length === 0) out.value = value;
  return out;
}

/** The checked settings of `service`, or a HerdError naming the service and every bad key. */
export function parseAutoscale(service: string, raw: unknown): Autoscale | undefined {
  const { value, problems } = checkAutoscale(raw);
  if (problems.length === 0) return value;
  const lines = problems.map(
    (p) => `service "${service}": x-herd.autoscale${p.key ? `.${p.key}` : ''}: ${p.message}`,
  );
  throw new HerdError(lines.join('\n'), 'COMPOSE_INVALID');
}

type Problem = (key: string, message: string) => void;

function count(v: unknown, key: string, least: number, problem: Problem): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= least) return v;
  problem(key, `expected a whole number ≥ ${least}, got ${show(v)}`);
  return undefined;
}

function positive(v: unknown, key: string, problem: Problem): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  problem(key, `expected a number > 0, got ${show(v)}`);
  return undefined;
}

/** A Compose duration (`30s`, `5m`) or a number of seconds. */
function duration(v: unknown, key: string, zeroOk: boolean, problem: Problem): number | undefined {
  if (v === undefined) return undefined;
  const ms =
    typeof v === 'number' && Number.isFinite(v) && v >= 0
      ? Math.round(v * 1000)
      : typeof v === 'string'
        ? parseDuration(v)
        : undefined;
  if (ms !== undefined && (zeroOk || ms > 0)) return ms;
  problem(key, `expected a duration such as 30s or 5m, got ${show(v)}`);
  return undefined;
}

function redisList(v: unknown, problem: Problem): RedisListTarget | undefined {
  const inner: SettingProblem[] = [];
  const map = mapping(v, 'a mapping { url, list, target }', inner);
  for (const p of inner) problem('redis_list', p.message);
  if (!map) return undefined;
  for (const key of Object.keys(map))
    if (!REDIS_LIST_KEYS.includes(key))
      problem(`redis_list.${key}`, unknownKeyMessage(key, REDIS_LIST_KEYS));
  const text = (key: 'url' | 'list') => {
    const s = map[key];
    if (typeof s === 'string' && s !== '') return s;
    problem(`redis_list.${key}`, `expected a non-empty string, got ${show(s)}`);
    return undefined;
  };
  const written = text('url');
  const bad = written === undefined ? undefined : checkRedisUrl(written);
  if (bad !== undefined) problem('redis_list.url', bad);
  const url = bad === undefined ? written : undefined;
  const list = text('list');
  const target = positive(map.target, 'redis_list.target', problem);
  if (map.target === undefined) problem('redis_list.target', 'is required: items per replica');
  if (url === undefined || list === undefined || target === undefined) return undefined;
  return { url, list, target };
}
