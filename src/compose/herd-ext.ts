// `x-herd`, herd's own keys. At service level: runtime choice, load-balancer settings,
// heal_unhealthy and rollout (kept raw in `extra` for engine/rollout.ts, checked here with the same
// rules). At the top level: proxy (kept raw for proxy/settings.ts, checked likewise). Any other key
// is an error, as everywhere else in the file, so a typo cannot silently fall back to a default.
import { checkAutoscale } from './autoscale.ts';
import type { Checker } from './check.ts';
import { checkDashboard } from './dashboard-settings.ts';
import { checkProxy, checkRollout, type SettingProblem } from './herd-settings.ts';
import { join } from './interpolate-tree.ts';
import { checkMetrics } from './metrics-settings.ts';
import { HERD_LB_KEYS, HERD_PROJECT_KEYS, HERD_SERVICE_KEYS } from './keys.ts';
import { plain } from './merge.ts';
import type { HerdProjectExtension, HerdServiceExtension, LbAlgorithm, Service } from './model.ts';
import type { CEntry, CNode } from './yaml-source.ts';

const ALGORITHMS: LbAlgorithm[] = ['round_robin', 'least_conn', 'p2c', 'hash'];
export const DEFAULT_STICKY_COOKIE = 'herd_sticky';

export function defaultHerdExtension(): HerdServiceExtension {
  return { lb: { algorithm: 'round_robin' }, healUnhealthy: true, extra: {} };
}

export function readHerdService(node: CNode, p: string, c: Checker): HerdServiceExtension {
  const ext = defaultHerdExtension();
  const map = c.map(node, p);
  if (!map) return ext;
  c.keys(map, p, HERD_SERVICE_KEYS);
  for (const [k, e] of map.entries) {
    const kp = join(p, k);
    const v = e.value;
    if (k === 'runtime') {
      const s = c.string(v, kp);
      if (s === 'process' || s === 'docker') ext.runtime = s;
      else if (s !== undefined) c.fail(v, kp, '"process" or "docker"');
    } else if (k === 'heal_unhealthy') {
      ext.healUnhealthy = c.bool(v, kp) ?? true;
    } else if (k === 'lb') {
      readLb(v, kp, c, ext);
    } else if (k === 'rollout') {
      // Checked by checkHerdRollout once the service's ports are known.
      ext.extra.rollout = plain(v);
    } else if (k === 'autoscale') {
      // Checked here with compose/autoscale.ts's rules; engine/autoscaler.ts reads it.
      const raw = plain(v);
      report(v, kp, checkAutoscale(raw).problems, c);
      ext.extra.autoscale = raw;
    }
  }
  return ext;
}

/** Checks `x-herd.rollout` at load time with engine/rollout.ts's rules; it needs the service's
 * ports (start-first is impossible when each replica owns a host port), so it runs after them. */
export function checkHerdRollout(node: CNode, p: string, service: Service, c: Checker): void {
  const rollout = node.kind === 'map' ? node.entries.get('rollout')?.value : undefined;
  if (!rollout) return;
  report(rollout, join(p, 'rollout'), checkRollout(plain(rollout), service).problems, c);
}

/** Top-level `x-herd`. */
export function readHerdProject(node: CNode | undefined, c: Checker): HerdProjectExtension {
  const herd: HerdProjectExtension = { extra: {} };
  if (!node || (node.kind === 'scalar' && node.value === null)) return herd;
  const map = c.map(node, 'x-herd');
  if (!map) return herd;
  c.keys(map, 'x-herd', HERD_PROJECT_KEYS);
  const proxy = map.entries.get('proxy')?.value;
  if (proxy) {
    report(proxy, 'x-herd.proxy', checkProxy(plain(proxy)).problems, c);
    herd.extra.proxy = plain(proxy);
  }
  const dashboard = map.entries.get('dashboard')?.value;
  if (dashboard) {
    report(dashboard, 'x-herd.dashboard', checkDashboard(plain(dashboard)).problems, c);
    herd.extra.dashboard = plain(dashboard);
  }
  const metrics = map.entries.get('metrics')?.value;
  if (metrics) {
    report(metrics, 'x-herd.metrics', checkMetrics(plain(metrics)).problems, c);
    herd.extra.metrics = plain(metrics);
  }
  return herd;
}

/** Records herd-settings problems at the key (unknown keys) or value they are about. */
export function report(node: CNode, p: string, problems: SettingProblem[], c: Checker): void {
  for (const problem of problems) {
    const entry = problem.key === undefined ? undefined : entryAt(node, problem.key);
    const pos = !entry ? node.pos : problem.unknownKey ? entry.keyPos : entry.value.pos;
    c.diag.error(pos, problem.key === undefined ? p : join(p, problem.key), problem.message);
  }
}

/** The entry a dotted key (`redis_list.url`) names under `node`, or the deepest one on its way
 * when it is missing, so a nested problem points at its own line. */
function entryAt(node: CNode, key: string): CEntry | undefined {
  let entry: CEntry | undefined;
  for (const part of key.split('.')) {
    const at: CNode = entry ? entry.value : node;
    const next = at.kind === 'map' ? at.entries.get(part) : undefined;
    if (!next) return entry;
    entry = next;
  }
  return entry;
}

function readLb(node: CNode, p: string, c: Checker, ext: HerdServiceExtension): void {
  const map = c.map(node, p);
  if (!map) return;
  c.keys(map, p, HERD_LB_KEYS);
  const alg = map.entries.get('algorithm')?.value;
  if (alg) {
    const s = c.string(alg, join(p, 'algorithm'));
    if (s !== undefined && (ALGORITHMS as string[]).includes(s))
      ext.lb.algorithm = s as LbAlgorithm;
    else if (s !== undefined) c.fail(alg, join(p, 'algorithm'), ALGORITHMS.join(', '));
  }
  const hashOn = map.entries.get('hash_on')?.value;
  if (hashOn) {
    const s = c.string(hashOn, join(p, 'hash_on'));
    const m = s === undefined ? null : /^(header|cookie):(.+)$/.exec(s);
    if (s === 'ip') ext.lb.hashOn = { kind: 'ip' };
    else if (m) ext.lb.hashOn = { kind: m[1] as 'header' | 'cookie', name: m[2] as string };
    else if (s !== undefined)
      c.fail(hashOn, join(p, 'hash_on'), '"ip", "header:NAME" or "cookie:NAME"');
    if (ext.lb.algorithm !== 'hash' && ext.lb.hashOn && alg) {
      c.diag.error(hashOn.pos, join(p, 'hash_on'), 'hash_on only applies with `algorithm: hash`');
    } else if (ext.lb.hashOn && !alg) ext.lb.algorithm = 'hash';
  }
  if (ext.lb.algorithm === 'hash' && !ext.lb.hashOn) ext.lb.hashOn = { kind: 'ip' };
  const sticky = map.entries.get('sticky')?.value;
  if (sticky) {
    const sp = join(p, 'sticky');
    if (sticky.kind === 'map') {
      c.keys(sticky, sp, ['cookie']);
      const cookie = sticky.entries.get('cookie')?.value;
      ext.lb.stickyCookie = cookie ? c.string(cookie, join(sp, 'cookie')) : DEFAULT_STICKY_COOKIE;
      if (ext.lb.stickyCookie === undefined) delete ext.lb.stickyCookie;
    } else {
      const on = c.bool(sticky, sp);
      if (on) ext.lb.stickyCookie = DEFAULT_STICKY_COOKIE;
    }
  }
}
