// `x-herd` at service level: runtime choice, load-balancer settings, heal_unhealthy; unknown keys kept.
import type { Checker } from './check.ts';
import { join } from './interpolate-tree.ts';
import { HERD_LB_KEYS, HERD_SERVICE_KEYS } from './keys.ts';
import { plain } from './merge.ts';
import type { HerdServiceExtension, LbAlgorithm } from './model.ts';
import type { CNode } from './yaml-source.ts';

const ALGORITHMS: LbAlgorithm[] = ['round_robin', 'least_conn', 'p2c', 'hash'];
export const DEFAULT_STICKY_COOKIE = 'herd_sticky';

export function defaultHerdExtension(): HerdServiceExtension {
  return { lb: { algorithm: 'round_robin' }, healUnhealthy: true, extra: {} };
}

export function readHerdService(node: CNode, p: string, c: Checker): HerdServiceExtension {
  const ext = defaultHerdExtension();
  const map = c.map(node, p);
  if (!map) return ext;
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
    } else {
      if (!HERD_SERVICE_KEYS.includes(k)) ext.extra[k] = plain(v);
    }
  }
  return ext;
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
