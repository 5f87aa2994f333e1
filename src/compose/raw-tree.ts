// The compose file(s) as plain data: found, interpolated, `extends` resolved and merged exactly as
// loadProject does, but not normalized. For code that needs what the typed Project does not keep
// (keys herd does not run, such as `deploy.update_config`, `secrets` or `networks`): `herd convert`
// carries them over to Kubernetes and Swarm. Run it after loadProject accepted the same options:
// the file is valid by then, so only warnings (unset variables) are left to report.
import path from 'node:path';
import { Checker } from './check.ts';
import { Diagnostics } from './errors.ts';
import { ExtendsResolver } from './extends.ts';
import { findComposeFiles } from './find.ts';
import { interpolateTree } from './interpolate-tree.ts';
import type { LoadOptions } from './load.ts';
import { mergeFiles, plain, stripResets } from './merge.ts';
import { buildProjectEnv } from './project-env.ts';
import { readYamlFile, type CMap, type CNode } from './yaml-source.ts';

export type RawMap = Record<string, unknown>;

export interface RawCompose {
  /** The merged top level: `services`, `volumes`, `secrets`, `x-herd`, … as plain values. */
  root: RawMap;
  /** The interpolation environment (shell over `.env`), for values a file names by variable. */
  env: Record<string, string>;
  warnings: string[];
}

export async function readRawCompose(opts: LoadOptions = {}): Promise<RawCompose> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const shell = opts.env ?? process.env;
  const fromEnv = shell.COMPOSE_FILE
    ? shell.COMPOSE_FILE.split(path.delimiter).filter((f) => f !== '')
    : undefined;
  const files = findComposeFiles(opts.files && opts.files.length > 0 ? opts.files : fromEnv, cwd);
  const projectDir = opts.projectDirectory
    ? path.resolve(cwd, opts.projectDirectory)
    : path.dirname(files[0] as string);
  const diag = new Diagnostics();
  const c = new Checker(diag);
  const env = buildProjectEnv(shell, projectDir, opts.envFiles, cwd, diag);
  const lookup = (n: string) => env[n];
  const prepare = (node: CNode) =>
    node.kind === 'map' ? (interpolateTree(node, '', lookup, diag) as CMap) : undefined;
  const extendsResolver = new ExtendsResolver(c, (node) => prepare(node) ?? node);
  let merged: CNode | undefined;
  for (const file of files) {
    const parsed = await readYamlFile(file, diag);
    const root = parsed && prepare(parsed);
    if (!root) continue;
    extendsResolver.resolveFile(root, file);
    merged = merged ? mergeFiles(merged, root) : stripResets(root);
  }
  diag.throwIfErrors();
  const root = merged ? plain(merged) : {};
  return { root: asMap(root) ?? {}, env, warnings: diag.warnings };
}

/** `v` when it is a mapping, else undefined. */
export function asMap(v: unknown): RawMap | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as RawMap) : undefined;
}
