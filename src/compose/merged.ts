// The compose files as one tree: parsed, the project named (so `${COMPOSE_PROJECT_NAME}` has its
// value, as Compose sets it before interpolating), interpolated, `include`s imported, `extends`
// resolved and merged in order. loadProject normalizes this tree; `herd convert` reads it raw.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Checker } from './check.ts';
import { ExtendsResolver } from './extends.ts';
import { importIncluded, readIncludeEntries, type IncludeEntry } from './include.ts';
import { interpolateTree } from './interpolate-tree.ts';
import { mergeFiles, stripResets } from './merge.ts';
import { resolveProjectName } from './project-name.ts';
import { describe, readYamlFile, type CMap, type CNode } from './yaml-source.ts';

export interface MergeInputs {
  cwd: string;
  files: string[];
  projectDir: string;
  c: Checker;
  env: Record<string, string>;
}

export interface Merged {
  root: CMap;
  name: string;
  /** The interpolation environment, COMPOSE_PROJECT_NAME included. */
  env: Record<string, string>;
  /** The name follows from the files' text and the project folder alone: not given with -p or
   * COMPOSE_PROJECT_NAME, nor interpolated (what name-cache.ts may remember). */
  nameLiteral: boolean;
}

interface Parsed {
  file: string;
  root: CMap;
}

/** Every file read and merged; throws when any of that failed. `nameFlag` is `-p`. */
export async function readMerged(inputs: MergeInputs, nameFlag?: string): Promise<Merged> {
  const { c, cwd } = inputs;
  const parsed = await parseAll(inputs.files, cwd, c);
  c.diag.throwIfErrors();
  const raw = lastName(parsed);
  const nameNode = raw && interpolateTree(raw, 'name', (k) => inputs.env[k], c.diag);
  const name = resolveProjectName(nameFlag, inputs.env, nameNode, inputs.projectDir, c);
  const env = { ...inputs.env, COMPOSE_PROJECT_NAME: name };
  const root = await new Layers(c, cwd).merge(parsed, inputs.projectDir, env, []);
  c.diag.throwIfErrors();
  const given = nameFlag !== undefined || Boolean(inputs.env.COMPOSE_PROJECT_NAME);
  const nameLiteral =
    !given && (raw === undefined || (raw.kind === 'scalar' && !String(raw.value).includes('$')));
  return { root: root ?? emptyRoot(), name, env, nameLiteral };
}

async function parseAll(files: string[], cwd: string, c: Checker): Promise<Parsed[]> {
  const out: Parsed[] = [];
  for (const file of files) {
    const node = await readYamlFile(file, c.diag, displayPath(file, cwd));
    const root = node && checkRoot(node, file, c);
    if (root) out.push({ file, root });
  }
  return out;
}

/** The `name:` of the last file that sets one, as written (interpolated by the caller, without
 * COMPOSE_PROJECT_NAME). */
function lastName(parsed: Parsed[]): CNode | undefined {
  let node: CNode | undefined;
  for (const { root } of parsed) {
    const n = root.entries.get('name')?.value;
    if (n && !(n.kind === 'scalar' && (n.value === null || n.value === ''))) node = n;
  }
  return node;
}

/** One application's files merged in its own project folder and environment; `include` loads
 * each included application through the same steps. */
class Layers {
  constructor(
    private readonly c: Checker,
    private readonly cwd: string,
  ) {}

  async merge(
    parsed: Parsed[],
    projectDir: string,
    env: Record<string, string>,
    chain: string[],
  ): Promise<CMap | undefined> {
    const { c } = this;
    const lookup = (n: string) => env[n];
    // Files pulled in by `extends: {file: ...}` get the same checks and interpolation.
    const extendsResolver = new ExtendsResolver(c, (node, file) => {
      const r = checkRoot(node, file, c);
      return r ? interpolateTree(r, '', lookup, c.diag) : node;
    });
    let merged: CMap | undefined;
    for (const { file, root } of parsed) {
      let interpolated = interpolateTree(root, '', lookup, c.diag) as CMap;
      interpolated = await this.applyIncludes(interpolated, file, projectDir, env, chain);
      extendsResolver.resolveFile(interpolated, file);
      merged = merged
        ? (mergeFiles(merged, interpolated) as CMap)
        : (stripResets(interpolated) as CMap);
    }
    return merged;
  }

  private async applyIncludes(
    root: CMap,
    file: string,
    projectDir: string,
    env: Record<string, string>,
    chain: string[],
  ): Promise<CMap> {
    const inc = root.entries.get('include');
    if (!inc) return root;
    const entries = new Map(root.entries);
    entries.delete('include');
    let out: CMap = { ...root, entries };
    if (inc.value.kind === 'scalar' && inc.value.value === null) return out;
    for (const entry of readIncludeEntries(inc.value, this.c, projectDir, env)) {
      const imported = await this.loadIncluded(entry, [...chain, file]);
      if (imported) out = importIncluded(out, imported, entry, this.c);
    }
    return out;
  }

  private async loadIncluded(entry: IncludeEntry, chain: string[]): Promise<CMap | undefined> {
    const cycle = entry.files.find((f) => chain.includes(f));
    if (cycle) {
      const shown = [...chain, cycle].map((f) => displayPath(f, this.cwd)).join(' -> ');
      this.c.diag.error(entry.node.pos, 'include', `include cycle: ${shown}`);
      return undefined;
    }
    const missing = entry.files.filter((f) => !existsSync(f));
    for (const f of missing)
      this.c.diag.error(entry.node.pos, 'include', `included file ${f} not found`);
    if (missing.length > 0) return undefined;
    const parsed = await parseAll(entry.files, this.cwd, this.c);
    if (parsed.length !== entry.files.length) return undefined;
    return this.merge(parsed, entry.projectDir, entry.env, chain);
  }
}

function checkRoot(node: CNode, file: string, c: Checker): CMap | undefined {
  if (node.kind === 'map') return node;
  c.diag.error(
    node.pos,
    '',
    `${path.basename(file)} must be a mapping with a \`services\` key at the top level, got ${describe(node)}`,
  );
  return undefined;
}

function emptyRoot(): CMap {
  return { kind: 'map', entries: new Map(), pos: { file: '', line: 1, col: 1 } };
}

export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}
