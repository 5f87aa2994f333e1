// Merges a later compose tree over an earlier one with Compose's rules: mappings merge,
// most lists append (ports and other unique lists de-duplicate), command/entrypoint/healthcheck.test
// replace, environment-like lists merge by key, volumes merge by target. `!reset` and `!override` tags
// are honoured.
import type { CEntry, CMap, CNode, CSeq } from './yaml-source.ts';

const REPLACE = new Set(['command', 'entrypoint', 'healthcheck.test']);
const BY_KEY = new Set([
  'environment',
  'labels',
  'annotations',
  'sysctls',
  'extra_hosts',
  'build.args',
  'build.labels',
  'deploy.labels',
]);

export function plain(node: CNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(plain);
  return Object.fromEntries([...node.entries].map(([k, e]) => [k, plain(e.value)]));
}

/** Removes `!reset` entries left in a single file (they only make sense as overrides). */
export function stripResets(node: CNode): CNode {
  if (node.kind === 'map') {
    const entries = new Map<string, CEntry>();
    for (const [k, e] of node.entries)
      if (e.value.tag !== '!reset') entries.set(k, { ...e, value: stripResets(e.value) });
    return { ...node, entries };
  }
  if (node.kind === 'seq')
    return { ...node, items: node.items.filter((i) => i.tag !== '!reset').map(stripResets) };
  return node;
}

/** Merges two whole compose files. */
export function mergeFiles(base: CNode, over: CNode): CNode {
  return mergeNode(base, over, '', 0);
}

/**
 * `rel` is the key path relative to the service (e.g. `healthcheck.test`), or '' outside services.
 * depth counts from the file root so services.<name> is recognised.
 */
function mergeNode(base: CNode, over: CNode, rel: string, depth: number): CNode {
  if (over.tag === '!override') return over;
  if (base.kind === 'map' && over.kind === 'map') return mergeMaps(base, over, rel, depth);
  if (REPLACE.has(rel)) return over;
  if (BY_KEY.has(rel) || rel === 'depends_on') {
    const b = rel === 'depends_on' ? dependsToMap(base) : listToMap(base);
    const o = rel === 'depends_on' ? dependsToMap(over) : listToMap(over);
    if (b && o) return mergeMaps(b, o, rel, depth);
    return over;
  }
  if (base.kind === 'seq' && over.kind === 'seq') {
    if (rel === 'volumes') return mergeByKey(base, over, volumeTarget);
    return appendUnique(base, over);
  }
  return over;
}

function mergeMaps(base: CMap, over: CMap, rel: string, depth: number): CMap {
  const entries = new Map(base.entries);
  for (const [k, e] of over.entries) {
    if (e.value.tag === '!reset') {
      entries.delete(k);
      continue;
    }
    const prev = entries.get(k);
    // Below services.<name> we track the path relative to the service for the special rules.
    const childRel = depth >= 2 ? (rel === '' ? k : `${rel}.${k}`) : '';
    entries.set(k, prev ? { ...e, value: mergeNode(prev.value, e.value, childRel, depth + 1) } : e);
  }
  return { ...base, entries };
}

function appendUnique(base: CSeq, over: CSeq): CSeq {
  const seen = new Set(base.items.map((i) => JSON.stringify(plain(i))));
  const items = [...base.items];
  for (const i of over.items) {
    const key = JSON.stringify(plain(i));
    if (!seen.has(key)) {
      seen.add(key);
      items.push(i);
    }
  }
  return { ...over, items };
}

function mergeByKey(base: CSeq, over: CSeq, keyOf: (n: CNode) => string): CSeq {
  const byKey = new Map<string, CNode>();
  for (const i of [...base.items, ...over.items]) byKey.set(keyOf(i), i);
  return { ...over, items: [...byKey.values()] };
}

function volumeTarget(n: CNode): string {
  if (n.kind === 'map') {
    const t = n.entries.get('target')?.value;
    return t && t.kind === 'scalar' ? String(t.value) : JSON.stringify(plain(n));
  }
  if (n.kind === 'scalar' && typeof n.value === 'string') {
    const parts = n.value.split(':');
    return parts.length === 1 ? (parts[0] as string) : (parts[1] as string);
  }
  return JSON.stringify(plain(n));
}

/** `["A=1", "B"]` as a mapping so two files can merge it by key. */
export function listToMap(node: CNode): CMap | undefined {
  if (node.kind === 'map') return node;
  if (node.kind !== 'seq') return undefined;
  const entries = new Map<string, CEntry>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || item.value === null) return undefined;
    const s = String(item.value);
    const eq = s.indexOf('=');
    const key = eq < 0 ? s : s.slice(0, eq);
    const value = eq < 0 ? null : s.slice(eq + 1);
    entries.set(key, { key, keyPos: item.pos, value: { kind: 'scalar', value, pos: item.pos } });
  }
  return { kind: 'map', entries, pos: node.pos };
}

function dependsToMap(node: CNode): CMap | undefined {
  if (node.kind === 'map') return node;
  if (node.kind !== 'seq') return undefined;
  const entries = new Map<string, CEntry>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || typeof item.value !== 'string') return undefined;
    entries.set(item.value, {
      key: item.value,
      keyPos: item.pos,
      value: { kind: 'map', entries: new Map(), pos: item.pos },
    });
  }
  return { kind: 'map', entries, pos: node.pos };
}

/** Merges one service definition over another (used by `extends`). */
export function mergeServiceNodes(base: CNode, over: CNode): CNode {
  return mergeNode(base, over, '', 2);
}
