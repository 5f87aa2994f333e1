// Reading durations and sizes from compose values, with positioned errors.
import type { Checker } from './check.ts';
import { parseDuration, parseSize } from './units.ts';
import { describe, type CNode } from './yaml-source.ts';

/** Milliseconds. A plain number is taken as seconds (compose-go converts ints to seconds). */
export function readDuration(node: CNode, path: string, c: Checker): number | undefined {
  if (node.kind === 'scalar') {
    if (typeof node.value === 'number' && node.value >= 0) return Math.round(node.value * 1000);
    if (typeof node.value === 'string') {
      const ms = parseDuration(node.value);
      if (ms !== undefined) return ms;
    }
  }
  c.diag.error(node.pos, path, `expected a duration such as 30s or 1m30s, got ${describe(node)}`);
  return undefined;
}

/** Bytes from `512M`, `1g`, `100kb` or a number of bytes. */
export function readSize(node: CNode, path: string, c: Checker): number | undefined {
  if (node.kind === 'scalar') {
    if (typeof node.value === 'number' && Number.isInteger(node.value) && node.value >= 0)
      return node.value;
    if (typeof node.value === 'string') {
      const b = parseSize(node.value);
      if (b !== undefined) return b;
    }
  }
  c.diag.error(
    node.pos,
    path,
    `expected a size such as 512m, 1g, 100kb or a number of bytes, got ${describe(node)}`,
  );
  return undefined;
}
