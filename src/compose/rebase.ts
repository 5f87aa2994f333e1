// When a service extends one from a file in another folder, its relative host paths (env_file,
// build context, bind-mount sources) stay relative to that file's folder, as Compose does.
import path from 'node:path';
import type { CEntry, CMap, CNode } from './yaml-source.ts';

export function rebaseServicePaths(svc: CMap, fromDir: string): CMap {
  const entries = new Map<string, CEntry>(svc.entries);
  const update = (key: string, fn: (n: CNode) => CNode) => {
    const e = entries.get(key);
    if (e) entries.set(key, { ...e, value: fn(e.value) });
  };
  const abs = (n: CNode): CNode =>
    n.kind === 'scalar' &&
    typeof n.value === 'string' &&
    !path.isAbsolute(n.value) &&
    !/^[a-z]+:\/\/|^git@/.test(n.value)
      ? { ...n, value: path.resolve(fromDir, n.value) }
      : n;
  update('env_file', (n) =>
    mapItems(n, (item) => (item.kind === 'map' ? mapKey(item, 'path', abs) : abs(item))),
  );
  update('build', (n) => (n.kind === 'map' ? mapKey(n, 'context', abs) : abs(n)));
  update('volumes', (n) =>
    mapItems(n, (item) => {
      if (item.kind === 'map') return mapKey(item, 'source', (s) => (isRelative(s) ? abs(s) : s));
      if (item.kind !== 'scalar' || typeof item.value !== 'string') return item;
      const [src, ...rest] = item.value.split(':');
      if (rest.length === 0 || !src || !src.startsWith('.')) return item;
      return { ...item, value: [path.resolve(fromDir, src), ...rest].join(':') };
    }),
  );
  return { ...svc, entries };
}

function isRelative(n: CNode): boolean {
  return n.kind === 'scalar' && typeof n.value === 'string' && n.value.startsWith('.');
}

function mapItems(n: CNode, fn: (item: CNode) => CNode): CNode {
  return n.kind === 'seq' ? { ...n, items: n.items.map(fn) } : fn(n);
}

function mapKey(m: CMap, key: string, fn: (n: CNode) => CNode): CMap {
  const e = m.entries.get(key);
  if (!e) return m;
  const entries = new Map(m.entries);
  entries.set(key, { ...e, value: fn(e.value) });
  return { ...m, entries };
}
