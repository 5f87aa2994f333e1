// Applies variable substitution to every string value of a compose tree (never to keys),
// recording failures with the value's position and key path.
import type { Diagnostics } from './errors.ts';
import { interpolate, InterpolationError, type Lookup } from './interpolate.ts';
import { urlLookup } from './redis-url.ts';
import type { CNode } from './yaml-source.ts';

export function interpolateTree(
  node: CNode,
  path: string,
  lookup: Lookup,
  diag: Diagnostics,
): CNode {
  if (node.kind === 'scalar') {
    if (typeof node.value !== 'string') return node;
    try {
      const value = interpolate(node.value, {
        lookup: urlLookup(path, lookup),
        onUnset: (name) =>
          diag.warn(`The "${name}" variable is not set. Defaulting to a blank string.`),
      });
      return { ...node, value };
    } catch (err) {
      if (!(err instanceof InterpolationError)) throw err;
      diag.error(node.pos, path, err.message);
      return node;
    }
  }
  if (node.kind === 'seq') {
    return {
      ...node,
      items: node.items.map((n, i) => interpolateTree(n, `${path}[${i}]`, lookup, diag)),
    };
  }
  const entries = new Map(
    [...node.entries].map(([k, e]) => [
      k,
      { ...e, value: interpolateTree(e.value, join(path, k), lookup, diag) },
    ]),
  );
  return { ...node, entries };
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
