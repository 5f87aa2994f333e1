// Small typed readers over CNode that record a positioned problem instead of throwing.
import type { Diagnostics } from './errors.ts';
import { nearest } from './levenshtein.ts';
import { describe, type CMap, type CNode, type CSeq } from './yaml-source.ts';
import { join } from './interpolate-tree.ts';
import { MAX_REPLICAS } from './limits.ts';

export class Checker {
  constructor(readonly diag: Diagnostics) {}

  fail(node: CNode, path: string, expected: string): undefined {
    this.diag.error(node.pos, path, `expected ${expected}, got ${describe(node)}`);
    return undefined;
  }

  map(node: CNode, path: string): CMap | undefined {
    return node.kind === 'map' ? node : this.fail(node, path, 'a mapping');
  }

  seq(node: CNode, path: string): CSeq | undefined {
    return node.kind === 'seq' ? node : this.fail(node, path, 'a list');
  }

  /** A string; numbers and booleans are accepted and stringified where Compose allows it. */
  string(node: CNode, path: string, what = 'a string'): string | undefined {
    if (node.kind === 'scalar' && typeof node.value === 'string') return node.value;
    if (node.kind === 'scalar' && typeof node.value === 'number') return String(node.value);
    return this.fail(node, path, what);
  }

  bool(node: CNode, path: string): boolean | undefined {
    if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
    if (node.kind === 'scalar' && (node.value === 'true' || node.value === 'false'))
      return node.value === 'true';
    return this.fail(node, path, 'true or false');
  }

  /** A non-negative integer (strings of digits are accepted, as they come from interpolation). */
  int(node: CNode, path: string, what = 'a non-negative integer'): number | undefined {
    if (node.kind === 'scalar') {
      const v = node.value;
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
      if (typeof v === 'string' && /^\d+$/.test(v.trim())) return Number(v.trim());
    }
    return this.fail(node, path, what);
  }

  /** A replica count: a non-negative integer up to MAX_REPLICAS. */
  replicas(node: CNode, path: string): number | undefined {
    const n = this.int(node, path);
    if (n === undefined || n <= MAX_REPLICAS) return n;
    return this.fail(node, path, `at most ${MAX_REPLICAS} replicas (herd's limit per service)`);
  }

  /** Checks that every key is allowed; unknown keys get a did-you-mean. `x-` keys pass when allowed. */
  keys(map: CMap, path: string, allowed: readonly string[], allowExtensions = true): void {
    for (const [key, e] of map.entries) {
      if (allowed.includes(key)) continue;
      if (allowExtensions && key.startsWith('x-')) continue;
      this.diag.error(e.keyPos, join(path, key), unknownKeyMessage(key, allowed));
    }
  }

  /** `KEY=VAL` list or mapping, as used by environment, labels and build args. null values kept as null. */
  keyValues(
    node: CNode,
    path: string,
  ): Map<string, { value: string | null; node: CNode }> | undefined {
    const out = new Map<string, { value: string | null; node: CNode }>();
    if (node.kind === 'map') {
      for (const [k, e] of node.entries) {
        const v = e.value;
        if (v.kind !== 'scalar') {
          this.fail(v, join(path, k), 'a string, number, boolean or null');
          continue;
        }
        out.set(k, { value: v.value === null ? null : String(v.value), node: v });
      }
      return out;
    }
    if (node.kind === 'seq') {
      node.items.forEach((item, i) => {
        const s = this.string(item, `${path}[${i}]`, 'a "KEY=VALUE" string');
        if (s === undefined) return;
        const eq = s.indexOf('=');
        if (eq === 0) {
          this.diag.error(
            item.pos,
            `${path}[${i}]`,
            `expected "KEY=VALUE", got ${JSON.stringify(s)}`,
          );
          return;
        }
        if (eq < 0) out.set(s, { value: null, node: item });
        else out.set(s.slice(0, eq), { value: s.slice(eq + 1), node: item });
      });
      return out;
    }
    return this.fail(node, path, 'a mapping or a list of "KEY=VALUE" strings');
  }

  /** A string or a list of strings. */
  stringList(node: CNode, path: string): string[] | undefined {
    if (node.kind === 'scalar' && typeof node.value === 'string') return [node.value];
    const s = this.seq(node, path);
    if (!s) return undefined;
    const out: string[] = [];
    s.items.forEach((item, i) => {
      const v = this.string(item, `${path}[${i}]`);
      if (v !== undefined) out.push(v);
    });
    return out;
  }
}

/** The message for a key not in `allowed`, with the nearest allowed key when it looks like a typo.
 * Shared with the x-herd settings checks so every unknown key reads the same. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const guess = nearest(key, allowed);
  return `unknown key${guess ? ` (did you mean \`${guess}\`?)` : ''}; ${
    // Long lists (the service keys) would drown the message; the spec lists them.
    allowed.length > 16 ? 'it is not a Compose key here' : `expected one of: ${allowed.join(', ')}`
  }`;
}
