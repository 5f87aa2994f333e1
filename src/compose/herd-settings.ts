// The rules for the x-herd settings that stay raw in the model (`x-herd.rollout` per service,
// `x-herd.proxy` at the top level), kept here as the one source of truth: the loader runs them
// to report problems at file:line:col when the file is loaded, and engine/rollout.ts and
// proxy/settings.ts run them again on projects built in code, throwing the first problem.
// Pure functions over plain values, so neither side depends on the other's internals.
import { unknownKeyMessage } from './check.ts';
import type { Service } from './model.ts';
import { parseDuration } from './units.ts';

/** One problem in a setting: `key` is the sub-key it is about (none for the value as a whole). */
export interface SettingProblem {
  key?: string;
  /** The key itself is wrong (unknown), so the loader points at the key, not its value. */
  unknownKey?: boolean;
  message: string;
}

export interface Checked<T> {
  /** The values that were valid; defaults are the caller's. */
  value: T;
  problems: SettingProblem[];
}

export type RolloutOrder = 'start-first' | 'stop-first';

export interface RolloutOverrides {
  parallelism?: number;
  order?: RolloutOrder;
  readyTimeoutMs?: number;
}

export const ROLLOUT_KEYS = ['parallelism', 'order', 'ready_timeout'];

/** `8080-8082:80`: replica n owns host port 8080+n-1, so two generations cannot overlap. */
export function ownsHostPort(service: Pick<Service, 'ports'>): boolean {
  return service.ports.some((p) => p.published && p.published.end > p.published.start);
}

/** Checks a service's raw `x-herd.rollout` (undefined or null: not set). */
export function checkRollout(
  raw: unknown,
  service: Pick<Service, 'ports'>,
): Checked<RolloutOverrides> {
  const out: Checked<RolloutOverrides> = { value: {}, problems: [] };
  const map = mapping(raw, `a mapping with ${ROLLOUT_KEYS.join(', ')}`, out.problems);
  if (!map) return out;
  unknownKeys(map, ROLLOUT_KEYS, out.problems);
  const problem = (key: string, message: string) => out.problems.push({ key, message });
  const { parallelism: n, order, ready_timeout: timeout } = map;
  if (n !== undefined) {
    if (typeof n === 'number' && Number.isInteger(n) && n >= 1) out.value.parallelism = n;
    else problem('parallelism', `expected a whole number ≥ 1, got ${show(n)}`);
  }
  if (order !== undefined) {
    if (order !== 'start-first' && order !== 'stop-first')
      problem('order', `expected "start-first" or "stop-first", got ${show(order)}`);
    else if (order === 'start-first' && ownsHostPort(service))
      problem(
        'order',
        'start-first cannot work here: each replica owns a host port of a published range, ' +
          'so a successor could not listen next to it; use stop-first',
      );
    else out.value.order = order;
  }
  if (timeout !== undefined) {
    // A plain number is seconds, as for Compose's durations.
    const ms =
      typeof timeout === 'number' && timeout > 0
        ? Math.round(timeout * 1000)
        : typeof timeout === 'string'
          ? parseDuration(timeout)
          : undefined;
    if (ms !== undefined && ms > 0) out.value.readyTimeoutMs = ms;
    else problem('ready_timeout', `expected a duration such as 30s or 2m, got ${show(timeout)}`);
  }
  return out;
}

export const PROXY_KEYS = ['workers'];
export const MAX_PROXY_WORKERS = 32;

/** Checks the raw top-level `x-herd.proxy` (undefined or null: not set). */
export function checkProxy(raw: unknown): Checked<{ workers?: number }> {
  const out: Checked<{ workers?: number }> = { value: {}, problems: [] };
  const map = mapping(raw, 'a mapping (for example "proxy: { workers: 2 }")', out.problems);
  if (!map) return out;
  unknownKeys(map, PROXY_KEYS, out.problems);
  const v = map.workers;
  if (v === undefined) return out;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_PROXY_WORKERS)
    out.value.workers = v;
  else
    out.problems.push({
      key: 'workers',
      message: `expected a whole number from 1 to ${MAX_PROXY_WORKERS}, got ${show(v)}; use 1 to serve every port from herd's own process`,
    });
  return out;
}

/** `raw` as a mapping, or a problem saying what was expected. */
export function mapping(
  raw: unknown,
  expected: string,
  problems: SettingProblem[],
): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  problems.push({ message: `expected ${expected}, got ${show(raw)}` });
  return undefined;
}

function unknownKeys(
  map: Record<string, unknown>,
  allowed: readonly string[],
  problems: SettingProblem[],
): void {
  for (const key of Object.keys(map)) {
    if (!allowed.includes(key))
      problems.push({ key, unknownKey: true, message: unknownKeyMessage(key, allowed) });
  }
}

/** A value as the user wrote it, for messages. */
export function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}
