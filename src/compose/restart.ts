// `restart`, `scale`, and the `deploy` block (replicas, restart_policy, resources).
import type { Checker } from './check.ts';
import { readDuration, readSize } from './durations.ts';
import { join } from './interpolate-tree.ts';
import {
  DEPLOY_HONOURED,
  DEPLOY_KEYS,
  RESOURCE_SET_KEYS,
  RESOURCES_KEYS,
  RESTART_POLICY_KEYS,
} from './keys.ts';
import type { Resources, ResourceSet, RestartPolicy } from './model.ts';
import { readUpdateConfig, type UpdateConfig } from './update-config.ts';
import type { CMap, CNode } from './yaml-source.ts';

/** Swarm's default `deploy.restart_policy.delay`. */
export const SWARM_RESTART_DELAY_MS = 5000;

const RESTART_HINT = '"no", "always", "on-failure", "on-failure:N" or "unless-stopped"';

export function readRestart(node: CNode, path: string, c: Checker): RestartPolicy | undefined {
  // `restart: no` unquoted is the string "no" in YAML 1.2; a boolean false means the same to a user.
  if (node.kind === 'scalar' && node.value === false) return { condition: 'no' };
  const s = c.string(node, path, RESTART_HINT);
  if (s === undefined) return undefined;
  if (s === 'no' || s === 'always' || s === 'unless-stopped' || s === 'on-failure')
    return { condition: s };
  const m = /^on-failure:(\d+)$/.exec(s);
  // Docker's MaximumRetryCount 0 is no limit, not "never restart".
  if (m)
    return Number(m[1]) === 0
      ? { condition: 'on-failure' }
      : { condition: 'on-failure', maxAttempts: Number(m[1]) };
  c.diag.error(node.pos, path, `expected ${RESTART_HINT}, got ${JSON.stringify(s)}`);
  return undefined;
}

export interface DeployResult {
  replicas?: { value: number; node: CNode };
  restart?: RestartPolicy;
  resources: Resources;
  ignored: string[];
  /** The keys set under resources.limits/reservations, as `deploy.resources.limits.cpus`. */
  resourceKeys: string[];
  update?: UpdateConfig;
  rollback?: UpdateConfig;
}

export function readDeploy(node: CNode, path: string, c: Checker): DeployResult {
  const out: DeployResult = {
    resources: { limits: {}, reservations: {} },
    ignored: [],
    resourceKeys: [],
  };
  const map = c.map(node, path);
  if (!map) return out;
  c.keys(map, path, DEPLOY_KEYS);
  for (const k of map.entries.keys())
    if (DEPLOY_KEYS.includes(k) && !DEPLOY_HONOURED.includes(k)) out.ignored.push(`deploy.${k}`);
  const replicas = map.entries.get('replicas')?.value;
  if (replicas) {
    const v = c.replicas(replicas, join(path, 'replicas'));
    if (v !== undefined) out.replicas = { value: v, node: replicas };
  }
  const mode = map.entries.get('mode')?.value;
  if (mode) {
    const m = c.string(mode, join(path, 'mode'));
    if (
      m !== undefined &&
      m !== 'replicated' &&
      m !== 'global' &&
      m !== 'replicated-job' &&
      m !== 'global-job'
    ) {
      c.fail(mode, join(path, 'mode'), '"replicated" or "global"');
    }
  }
  const uc = map.entries.get('update_config')?.value;
  if (uc) out.update = readUpdateConfig(uc, join(path, 'update_config'), c, false);
  const rc = map.entries.get('rollback_config')?.value;
  if (rc) out.rollback = readUpdateConfig(rc, join(path, 'rollback_config'), c, true);
  const rp = map.entries.get('restart_policy')?.value;
  if (rp) out.restart = readRestartPolicy(rp, join(path, 'restart_policy'), c);
  const res = map.entries.get('resources')?.value;
  if (res) {
    const rmap = c.map(res, join(path, 'resources'));
    if (rmap) {
      c.keys(rmap, join(path, 'resources'), RESOURCES_KEYS);
      for (const k of ['limits', 'reservations'] as const) {
        const n = rmap.entries.get(k)?.value;
        if (!n) continue;
        out.resources[k] = readResourceSet(n, join(path, `resources.${k}`), c);
        if (n.kind === 'map')
          for (const key of n.entries.keys()) out.resourceKeys.push(`deploy.resources.${k}.${key}`);
      }
    }
  }
  return out;
}

function readRestartPolicy(node: CNode, path: string, c: Checker): RestartPolicy | undefined {
  const map = c.map(node, path);
  if (!map) return undefined;
  c.keys(map, path, RESTART_POLICY_KEYS);
  // Swarm: `delay` (default 5 s) is the same between every attempt, never doubled.
  const policy: RestartPolicy = {
    condition: 'always',
    delayMs: SWARM_RESTART_DELAY_MS,
    fixedDelay: true,
  };
  const cond = map.entries.get('condition')?.value;
  if (cond) {
    const s = c.string(cond, join(path, 'condition'));
    if (s === 'none') policy.condition = 'no';
    else if (s === 'any') policy.condition = 'always';
    else if (s === 'on-failure') policy.condition = 'on-failure';
    else if (s !== undefined)
      c.fail(cond, join(path, 'condition'), '"none", "on-failure" or "any"');
  }
  const delay = map.entries.get('delay')?.value;
  if (delay) policy.delayMs = readDuration(delay, join(path, 'delay'), c);
  const window = map.entries.get('window')?.value;
  if (window) policy.windowMs = readDuration(window, join(path, 'window'), c);
  const max = map.entries.get('max_attempts')?.value;
  // Swarm's MaxAttempts 0 (and Docker's retry count 0) means never give up.
  if (max) {
    const n = c.int(max, join(path, 'max_attempts'));
    if (n !== 0) policy.maxAttempts = n;
  }
  return dropUndefined(policy);
}

function readResourceSet(node: CNode, path: string, c: Checker): ResourceSet {
  const set: ResourceSet = {};
  const map: CMap | undefined = c.map(node, path);
  if (!map) return set;
  c.keys(map, path, RESOURCE_SET_KEYS);
  const cpus = map.entries.get('cpus')?.value;
  if (cpus) {
    const raw = cpus.kind === 'scalar' ? cpus.value : undefined;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (Number.isFinite(n) && n >= 0 && !(typeof raw === 'string' && raw.trim() === ''))
      set.cpus = n;
    else c.fail(cpus, join(path, 'cpus'), 'a number of CPUs such as 0.5 or "2"');
  }
  const mem = map.entries.get('memory')?.value;
  if (mem) {
    const b = readSize(mem, join(path, 'memory'), c);
    // Docker reads 0 as "no limit"; passed on, a 0-byte limit would kill a process replica at
    // once. Left unset, a service-level mem_limit still applies, as in Compose.
    if (b !== undefined && b > 0) set.memoryBytes = b;
  }
  const pids = map.entries.get('pids')?.value;
  if (pids) {
    const p = c.int(pids, join(path, 'pids'));
    if (p !== undefined) set.pids = p;
  }
  return set;
}

export function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
