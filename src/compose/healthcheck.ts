// healthcheck: test in CMD / CMD-SHELL / NONE / string form, disable, and Compose's timing defaults.
import { join } from './interpolate-tree.ts';
import { HEALTHCHECK_KEYS } from './keys.ts';
import type { Healthcheck, HealthTest } from './model.ts';
import type { Checker } from './check.ts';
import { readDuration } from './durations.ts';
import type { CNode } from './yaml-source.ts';

const DEFAULTS = {
  intervalMs: 30_000,
  timeoutMs: 30_000,
  retries: 3,
  startPeriodMs: 0,
  startIntervalMs: 5_000,
};

/** undefined when no healthcheck applies (none, `disable: true`, `test: [NONE]`). */
export function readHealthcheck(node: CNode, path: string, c: Checker): Healthcheck | undefined {
  const map = c.map(node, path);
  if (!map) return undefined;
  c.keys(map, path, HEALTHCHECK_KEYS);
  const get = (k: string) => map.entries.get(k)?.value;
  const disable = get('disable');
  const hc: Healthcheck = { ...DEFAULTS };
  const dur = (
    key: 'interval' | 'timeout' | 'start_period' | 'start_interval',
    field: keyof typeof DEFAULTS,
  ) => {
    const n = get(key);
    if (n) {
      const ms = readDuration(n, join(path, key), c);
      if (ms !== undefined) hc[field] = ms;
    }
  };
  dur('interval', 'intervalMs');
  dur('timeout', 'timeoutMs');
  dur('start_period', 'startPeriodMs');
  dur('start_interval', 'startIntervalMs');
  const retries = get('retries');
  if (retries) {
    const r = c.int(retries, join(path, 'retries'));
    if (r !== undefined) hc.retries = r;
  }
  if (disable && c.bool(disable, join(path, 'disable')) === true) return undefined;
  const test = get('test');
  if (test) {
    const t = readTest(test, join(path, 'test'), c);
    if (t === 'none') return undefined;
    if (t) hc.test = t;
  }
  return hc;
}

function readTest(node: CNode, path: string, c: Checker): HealthTest | 'none' | undefined {
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    return node.value === '' ? 'none' : { kind: 'shell', command: node.value };
  }
  const seq = c.seq(node, path);
  if (!seq) return undefined;
  const words: string[] = [];
  for (const [i, item] of seq.items.entries()) {
    const s = c.string(item, `${path}[${i}]`);
    if (s === undefined) return undefined;
    words.push(s);
  }
  const [head, ...rest] = words;
  if (head === 'NONE') return 'none';
  if (head === 'CMD') {
    if (rest.length === 0) return badTest(node, path, c);
    return { kind: 'exec', argv: rest };
  }
  if (head === 'CMD-SHELL') {
    if (rest.length === 0) return badTest(node, path, c);
    return { kind: 'shell', command: rest.join(' ') };
  }
  return badTest(node, path, c);
}

function badTest(node: CNode, path: string, c: Checker): undefined {
  return c.fail(
    node,
    path,
    'a string, or a list starting with "CMD", "CMD-SHELL" or "NONE" followed by the command',
  );
}
