// Parses a YAML file into a small positioned tree (CNode) so every value keeps its file:line:col
// through interpolation, merging and validation. Anchors, aliases and `<<` merge keys are resolved here.
import {
  Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YamlNode,
  type YAMLMap,
} from 'yaml';
import type { Diagnostics, Pos } from './errors.ts';
import { readTextBounded } from './read-bounded.ts';

export type Scalar = string | number | boolean | null;

export interface CScalar {
  kind: 'scalar';
  value: Scalar;
  pos: Pos;
  tag?: string;
}
export interface CSeq {
  kind: 'seq';
  items: CNode[];
  pos: Pos;
  tag?: string;
}
export interface CEntry {
  key: string;
  keyPos: Pos;
  value: CNode;
}
export interface CMap {
  kind: 'map';
  entries: Map<string, CEntry>;
  pos: Pos;
  tag?: string;
}
export type CNode = CScalar | CSeq | CMap;

/** `display` is how positions name the file (relative to the working directory when inside it). */
export async function readYamlFile(
  file: string,
  diag: Diagnostics,
  display = file,
): Promise<CNode | undefined> {
  let text: string;
  try {
    text = readTextBounded(file);
  } catch (err) {
    diag.error(undefined, '', `cannot read compose file ${file}: ${(err as Error).message}`);
    return undefined;
  }
  return parseYaml(text, display, diag);
}

/** Parses YAML text; syntax problems are recorded with their position and yield undefined. */
export function parseYaml(text: string, file: string, diag: Diagnostics): CNode | undefined {
  const lineCounter = new LineCounter();
  const posAt = (offset: number): Pos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  // Nesting the parser would recurse into until the stack overflows is refused before it parses.
  const tooDeep = flowTooDeep(text);
  if (tooDeep !== undefined) {
    lineCounter.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0 && i < tooDeep; i = text.indexOf('\n', i + 1))
      lineCounter.addNewLine(i + 1);
    diag.error(posAt(tooDeep), '', `invalid YAML: nested more than ${MAX_DEPTH} levels deep`);
    return undefined;
  }
  const doc = parseDocument(text, {
    lineCounter,
    // Duplicate keys are found by the converter below: the library's own check compares each
    // key with every earlier one, which makes a mapping of 40 000 keys take seconds.
    uniqueKeys: false,
    prettyErrors: false,
    merge: false,
  });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      // Block nesting (`- - - …`, indented keys) is not counted before parsing: the parser's own
      // stack overflow, which it reports at its position, is said in the user's terms.
      const why = firstLine(e.message).startsWith('Maximum call stack size exceeded')
        ? 'nested too deep to read (a compose file needs a few levels, not hundreds)'
        : firstLine(e.message);
      diag.error(posAt(e.pos[0]), '', `invalid YAML: ${why}`);
    }
    return undefined;
  }
  const conv = new Converter(doc, posAt, diag);
  if (doc.contents === null) return { kind: 'map', entries: new Map(), pos: posAt(0) };
  const tree = conv.convert(doc.contents as YamlNode, 0);
  // Like a syntax error, a duplicate key stops the load here.
  return conv.duplicates ? undefined : tree;
}

/** Deepest nesting of `[` / `{` a compose file may have; the tree is refused past 200 anyway. */
export const MAX_DEPTH = 1000;

/** The offset of the bracket that nests flow collections past MAX_DEPTH, else undefined. One pass:
 * quoted strings and comments are skipped; brackets inside plain text only make it stricter. */
export function flowTooDeep(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5b || ch === 0x7b) {
      if (++depth > MAX_DEPTH) return i;
    } else if (ch === 0x5d || ch === 0x7d) {
      if (depth > 0) depth--;
    } else if (ch === 0x23 && (i === 0 || isBlank(text.charCodeAt(i - 1)))) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if ((ch === 0x22 || ch === 0x27) && startsToken(text, i)) {
      i = quoteEnd(text, i);
    }
  }
  return undefined;
}

const isBlank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** A quote opens a quoted scalar only where a token starts (not in `don't`). */
function startsToken(text: string, i: number): boolean {
  if (i === 0) return true;
  const c = text.charCodeAt(i - 1);
  return isBlank(c) || c === 0x5b || c === 0x7b || c === 0x2c || c === 0x3a || c === 0x2d;
}

/** The offset of the quote that closes the one at `i` (`''` and `\"` do not close). */
function quoteEnd(text: string, i: number): number {
  const q = text[i];
  for (let k = i + 1; k < text.length; k++) {
    if (q === '"' && text[k] === '\\') k++;
    else if (text[k] === q) {
      if (q === "'" && text[k + 1] === "'") k++;
      else return k;
    }
  }
  return text.length;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

const MAX_NODES = 200_000;

class Converter {
  constructor(
    private readonly doc: Document,
    private readonly posAt: (offset: number) => Pos,
    private readonly diag: Diagnostics,
  ) {}

  /** Nodes produced so far: alias expansion is capped so an alias bomb cannot exhaust memory. */
  private produced = 0;
  private tooBig = false;
  /** A mapping repeated a key (reported where the repeat is). */
  duplicates = false;

  convert(node: YamlNode | Alias, depth: number): CNode {
    const pos = this.posAt(node.range?.[0] ?? 0);
    const refused = this.refuseTooBig(pos, depth);
    if (refused) return refused;
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) {
        this.diag.error(pos, '', `unknown YAML alias *${node.source}`);
        return { kind: 'scalar', value: null, pos };
      }
      return this.convert(target as YamlNode, depth + 1);
    }
    const tag =
      node.tag && node.tag.startsWith('!') && !node.tag.startsWith('!!') ? node.tag : undefined;
    if (isScalar(node)) return { kind: 'scalar', value: scalarValue(node.value), pos, tag };
    if (isSeq(node)) {
      return {
        kind: 'seq',
        items: node.items.map((i) => this.convert(i as YamlNode, depth + 1)),
        pos,
        tag,
      };
    }
    if (isMap(node)) return { kind: 'map', entries: this.entries(node, depth), pos, tag };
    this.diag.error(pos, '', 'unsupported YAML node');
    return { kind: 'scalar', value: null, pos };
  }

  /** A null in place of a node past the limits, which are reported once; undefined when within. */
  private refuseTooBig(pos: Pos, depth: number): CScalar | undefined {
    if (++this.produced > MAX_NODES) {
      if (!this.tooBig)
        this.diag.error(
          pos,
          '',
          `YAML expands to more than ${MAX_NODES} values (alias expansion too large)`,
        );
      this.tooBig = true;
      return { kind: 'scalar', value: null, pos };
    }
    // Deep alias chains ("billion laughs") would blow up memory; Compose files never need this.
    if (depth > 200) {
      this.diag.error(
        pos,
        '',
        'YAML nesting is too deep (over 200 levels or alias expansion loop)',
      );
      return { kind: 'scalar', value: null, pos };
    }
    return undefined;
  }

  /** A mapping's entries, with `<<` merge keys resolved: explicit keys win, earlier sources win. */
  private entries(node: YAMLMap, depth: number): Map<string, CEntry> {
    const entries = new Map<string, CEntry>();
    const merged: CMap[] = [];
    const seen = new Set<string>();
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const keyPos = this.posAt(keyNode?.range?.[0] ?? node.range?.[0] ?? 0);
      if (keyNode && !isScalar(keyNode)) {
        this.diag.error(keyPos, '', 'mapping keys must be plain strings');
        continue;
      }
      const keyVal = keyNode?.value;
      const key = keyVal === null || keyVal === undefined ? '' : String(keyVal);
      if (seen.has(key)) {
        this.diag.error(keyPos, '', 'invalid YAML: Map keys must be unique');
        this.duplicates = true;
      }
      seen.add(key);
      const valueNode = pair.value as YamlNode | Alias | null;
      const value: CNode = valueNode
        ? this.convert(valueNode, depth + 1)
        : { kind: 'scalar', value: null, pos: keyPos };
      if (key === '<<' && keyNode && !keyNode.type?.startsWith('QUOTE')) {
        // YAML merge key: `<<: *base` or `<<: [*a, *b]`.
        merged.push(...this.mergeSources(value));
        continue;
      }
      entries.set(key, { key, keyPos, value });
    }
    for (const m of merged) {
      for (const [k, e] of m.entries) if (!entries.has(k)) entries.set(k, e);
    }
    return entries;
  }

  private mergeSources(value: CNode): CMap[] {
    const sources = value.kind === 'seq' ? value.items : [value];
    const maps: CMap[] = [];
    for (const s of sources) {
      if (s.kind === 'map') maps.push(s);
      else
        this.diag.error(s.pos, '', 'the YAML merge key << needs a mapping or a list of mappings');
    }
    return maps;
  }
}

function scalarValue(v: unknown): Scalar {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number(v);
  return String(v);
}

export function describe(node: CNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  if (node.value === null) return 'null';
  if (typeof node.value === 'string') return JSON.stringify(node.value);
  return `${typeof node.value} ${String(node.value)}`;
}
