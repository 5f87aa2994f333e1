// Top-level `include:`: each entry is a Compose application of its own (its files, its project
// folder, its environment), loaded and then imported into the including file, as Compose does.
// Short syntax `- path.yaml`; long syntax `{path, env_file, project_directory}` where `path` may
// list override files. Relative paths are relative to the including project's folder.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Checker } from './check.ts';
import { DotenvError, parseDotenv } from './dotenv.ts';
import { join } from './interpolate-tree.ts';
import { plain } from './merge.ts';
import { FileTooLargeError, readTextBounded } from './read-bounded.ts';
import { rebaseServicePaths } from './rebase.ts';
import type { CEntry, CMap, CNode } from './yaml-source.ts';

export const INCLUDE_KEYS = ['path', 'env_file', 'project_directory'];
const IMPORTED = ['services', 'volumes', 'networks', 'secrets', 'configs'];

export interface IncludeEntry {
  files: string[];
  projectDir: string;
  env: Record<string, string>;
  node: CNode;
}

/** The entries of `include:` with their files, folders and environments resolved; problems are
 * reported and the entry left out. */
export function readIncludeEntries(
  node: CNode,
  c: Checker,
  projectDir: string,
  env: Record<string, string>,
): IncludeEntry[] {
  const seq = c.seq(node, 'include');
  if (!seq) return [];
  const out: IncludeEntry[] = [];
  seq.items.forEach((item, i) => {
    const p = `include[${i}]`;
    let paths: string[] | undefined;
    let envFiles: string[] | undefined;
    let dirNode: CNode | undefined;
    if (item.kind === 'map') {
      c.keys(item, p, INCLUDE_KEYS);
      const pathNode = item.entries.get('path')?.value;
      if (!pathNode) c.diag.error(item.pos, p, 'an include entry needs `path`');
      else paths = c.stringList(pathNode, join(p, 'path'));
      const ef = item.entries.get('env_file')?.value;
      if (ef) envFiles = c.stringList(ef, join(p, 'env_file'));
      dirNode = item.entries.get('project_directory')?.value;
    } else paths = c.stringList(item, p);
    if (!paths || paths.length === 0) return;
    const files = paths.map((f) => path.resolve(projectDir, f));
    const dir = dirNode ? c.string(dirNode, join(p, 'project_directory')) : undefined;
    const incDir = dir !== undefined ? path.resolve(projectDir, dir) : path.dirname(files[0]!);
    const given = envFiles?.map((f) => path.resolve(projectDir, f));
    const incEnv = includeEnv(given, incDir, env, item, p, c);
    if (incEnv) out.push({ files, projectDir: incDir, env: incEnv, node: item });
  });
  return out;
}

/** The including environment, with what the entry's env files (default: `.env` in its project
 * folder) set for names it does not have: the including side wins, as in Compose. */
function includeEnv(
  given: string[] | undefined,
  dir: string,
  env: Record<string, string>,
  node: CNode,
  p: string,
  c: Checker,
): Record<string, string> | undefined {
  const dotenv = path.join(dir, '.env');
  const files = given ?? (existsSync(dotenv) && statSync(dotenv).isFile() ? [dotenv] : []);
  const fromFiles: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readTextBounded(file);
    } catch (err) {
      const why = err instanceof FileTooLargeError ? err.message : (err as Error).message;
      c.diag.error(node.pos, join(p, 'env_file'), `cannot read env file ${file}: ${why}`);
      return undefined;
    }
    try {
      Object.assign(
        fromFiles,
        parseDotenv(text, (n) => env[n] ?? fromFiles[n]),
      );
    } catch (err) {
      if (!(err instanceof DotenvError)) throw err;
      c.diag.error({ file, line: err.line, col: 1 }, '', err.message);
      return undefined;
    }
  }
  return { ...fromFiles, ...env };
}

/** Moves what an included application defines into the including file's root. A name defined
 * on both sides must be the same definition (Compose refuses a conflicting one). */
export function importIncluded(root: CMap, imported: CMap, entry: IncludeEntry, c: Checker): CMap {
  const entries = new Map(root.entries);
  for (const key of IMPORTED) {
    const from = imported.entries.get(key)?.value;
    if (!from || from.kind !== 'map') continue;
    const existing = entries.get(key);
    const target = new Map(existing?.value.kind === 'map' ? existing.value.entries : []);
    for (const [name, e] of from.entries) {
      const value = rebased(key, e.value, entry.projectDir);
      const have = target.get(name);
      if (have && JSON.stringify(plain(have.value)) !== JSON.stringify(plain(value))) {
        c.diag.error(
          have.keyPos,
          `${key}.${name}`,
          `conflicts with the ${key.slice(0, -1)} of that name in the included ${entry.files[0]}`,
        );
        continue;
      }
      target.set(name, { ...e, value });
    }
    const pos = existing?.value.pos ?? from.pos;
    const keyEntry: CEntry = existing ?? { key, keyPos: from.pos, value: from };
    entries.set(key, { ...keyEntry, value: { kind: 'map', entries: target, pos } });
  }
  return { ...root, entries };
}

/** Relative host paths of an included definition stay relative to its own project folder. */
function rebased(key: string, value: CNode, dir: string): CNode {
  if (value.kind !== 'map') return value;
  if (key === 'services') return withWorkingDir(rebaseServicePaths(value, dir), dir);
  if (key !== 'secrets' && key !== 'configs') return value;
  const file = value.entries.get('file');
  if (!file || file.value.kind !== 'scalar' || typeof file.value.value !== 'string') return value;
  const entries = new Map(value.entries);
  entries.set('file', {
    ...file,
    value: { ...file.value, value: path.resolve(dir, file.value.value) },
  });
  return { ...value, entries };
}

/** A service that runs as a process (no image, no build) runs in its own application's folder,
 * and a relative working_dir is that folder's too (for a container it is a container path). */
function withWorkingDir(svc: CMap, dir: string): CMap {
  const isProcess = !svc.entries.has('image') && !svc.entries.has('build');
  const wd = svc.entries.get('working_dir');
  const given = wd?.value.kind === 'scalar' ? wd.value.value : undefined;
  if (!isProcess || (wd && typeof given !== 'string')) return svc;
  const value = typeof given === 'string' ? path.resolve(dir, given) : dir;
  const entries = new Map(svc.entries);
  const pos = wd?.value.pos ?? svc.pos;
  entries.set('working_dir', {
    key: 'working_dir',
    keyPos: wd?.keyPos ?? svc.pos,
    value: { kind: 'scalar', value, pos },
  });
  return { ...svc, entries };
}
