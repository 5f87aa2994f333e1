// loadProject: find the files, build the environment, parse, interpolate, resolve extends, merge,
// validate and normalize into the Project model, reporting every problem at once.
import path from 'node:path';
import { Checker } from './check.ts';
import type { LoadContext } from './context.ts';
import { checkDependencies } from './depends.ts';
import { ComposeError, Diagnostics } from './errors.ts';
import { ExtendsResolver } from './extends.ts';
import { findComposeFiles } from './find.ts';
import { readHerdProject } from './herd-ext.ts';
import { interpolateTree } from './interpolate-tree.ts';
import { TOP_LEVEL_KEYS } from './keys.ts';
import { mergeFiles, stripResets } from './merge.ts';
import type { Project, Service } from './model.ts';
import { selectServices } from './profiles.ts';
import { buildProjectEnv } from './project-env.ts';
import { resolveProjectName } from './project-name.ts';
import { readService } from './service.ts';
import { readNamedVolumes } from './volumes.ts';
import { describe, readYamlFile, type CEntry, type CMap, type CNode } from './yaml-source.ts';

export interface LoadOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  enableServices?: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export { ComposeError };

const IGNORED_TOP_LEVEL = ['networks', 'secrets', 'configs', 'models'];

/** What a load starts from: the files (`-f`, else COMPOSE_FILE, else found), the project folder,
 * and the interpolation environment (shell over `.env`). */
export interface LoadInputs {
  cwd: string;
  files: string[];
  projectDir: string;
  diag: Diagnostics;
  c: Checker;
  env: Record<string, string>;
  lookup: (name: string) => string | undefined;
}

export function loadInputs(opts: LoadOptions): LoadInputs {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const shell = opts.env ?? process.env;
  // COMPOSE_FILE (a path-separator list) stands in for -f, as in Compose.
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
  return { cwd, files, projectDir, diag, c, env, lookup: (n: string) => env[n] };
}

export async function loadProject(opts: LoadOptions = {}): Promise<Project> {
  const { cwd, files, projectDir, diag, c, env, lookup } = loadInputs(opts);
  diag.throwIfErrors();

  const root = await readMerged(files, cwd, c, lookup);
  checkTopLevel(root, c);
  const get = (k: string) => root.entries.get(k)?.value;
  const name = resolveProjectName(opts.projectName, env, get('name'), projectDir, c);
  const ctx: LoadContext = { c, projectDir, lookup };
  const { all, depNodes } = readServices(get('services'), ctx);

  const profiles =
    opts.profiles && opts.profiles.length > 0 ? opts.profiles : splitList(env.COMPOSE_PROFILES);
  const { services, disabled } = selectServices(all, profiles, opts.enableServices ?? [], diag);
  checkDependencies(services, depNodes, disabled, diag);
  const volumesNode = get('volumes');
  const volumes = isSet(volumesNode) ? readNamedVolumes(volumesNode, 'volumes', ctx) : {};
  const herd = readHerdProject(get('x-herd'), c);
  diag.throwIfErrors();

  return {
    name,
    workingDir: projectDir,
    composeFiles: files,
    services,
    volumes,
    herd,
    warnings: diag.warnings,
  };
}

/** Every file parsed, interpolated, its `extends` resolved, and merged over the ones before it;
 * throws when any of that failed. */
/** The files checked, interpolated, `extends` resolved and merged in order. */
export async function readMerged(
  files: string[],
  cwd: string,
  c: Checker,
  lookup: (name: string) => string | undefined,
): Promise<CMap> {
  const { diag } = c;
  // Files pulled in by `extends: {file: ...}` get the same checks and interpolation.
  const extendsResolver = new ExtendsResolver(c, (node, file) => {
    const r = checkRoot(node, file, c);
    return r ? interpolateTree(r, '', lookup, diag) : node;
  });
  let merged: CMap | undefined;
  for (const file of files) {
    const parsed = await readYamlFile(file, diag, displayPath(file, cwd));
    if (!parsed) continue;
    const root = checkRoot(parsed, file, c);
    if (!root) continue;
    const interpolated = interpolateTree(root, '', lookup, diag) as CMap;
    extendsResolver.resolveFile(interpolated, file);
    merged = merged
      ? (mergeFiles(merged, interpolated) as CMap)
      : (stripResets(interpolated) as CMap);
  }
  diag.throwIfErrors();
  return merged as CMap;
}

/** Top-level keys: unknown ones, and the ones herd warns about or refuses. */
function checkTopLevel(root: CMap, c: Checker): void {
  const { diag } = c;
  c.keys(root, '', TOP_LEVEL_KEYS);
  if (root.entries.has('version')) {
    diag.warn(
      'the attribute `version` is obsolete, it will be ignored; please remove it to avoid confusion',
    );
  }
  const include = root.entries.get('include');
  if (include)
    diag.error(
      include.keyPos,
      'include',
      'herd does not support `include` yet; merge the files with -f instead',
    );
  for (const k of IGNORED_TOP_LEVEL) {
    if (root.entries.has(k))
      diag.warn(`top-level \`${k}\` is not honoured by herd's process runtime (ignored)`);
  }
}

/** Every service under `services:` (before profiles select), with its depends_on nodes. */
function readServices(
  servicesNode: CNode | undefined,
  ctx: LoadContext,
): { all: Record<string, Service>; depNodes: Record<string, Record<string, CNode>> } {
  const all: Record<string, Service> = {};
  const depNodes: Record<string, Record<string, CNode>> = {};
  if (!isSet(servicesNode)) return { all, depNodes };
  for (const [svcName, e] of ctx.c.map(servicesNode, 'services')?.entries ?? []) {
    if (svcName.startsWith('x-') || !isServiceEntry(svcName, e, ctx.c.diag)) continue;
    const r = readService(svcName, e.value as CMap, ctx);
    checkRunnable(r.service, e, ctx.c.diag);
    all[svcName] = r.service;
    depNodes[svcName] = r.dependencyNodes;
  }
  return { all, depNodes };
}

/** A valid service name whose value is a mapping; otherwise reports why not. */
function isServiceEntry(name: string, e: CEntry, diag: Diagnostics): boolean {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(name)) {
    diag.error(
      e.keyPos,
      `services.${name}`,
      'a service name may only contain letters, digits, ".", "_" and "-", and must start with a letter or digit',
    );
    return false;
  }
  if (e.value.kind !== 'map') {
    diag.error(
      e.value.pos,
      `services.${name}`,
      `expected a mapping (the service definition), got ${describe(e.value)}`,
    );
    return false;
  }
  return true;
}

/** As Compose refuses a service with neither image nor build, at load rather than at `up`. */
function checkRunnable(svc: Service, e: CEntry, diag: Diagnostics): void {
  if (
    svc.command === undefined &&
    svc.entrypoint === undefined &&
    svc.image === undefined &&
    svc.build === undefined
  )
    diag.error(
      e.keyPos,
      `services.${svc.name}`,
      'nothing to run: add `command:` (a local process, e.g. command: ["node", "app.js"]) ' +
        'or `image:`/`build:` (a Docker container)',
    );
}

/** Present and not an explicit null (which means "not set" in Compose). */
function isSet(node: CNode | undefined): node is CNode {
  return node !== undefined && !(node.kind === 'scalar' && node.value === null);
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

function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

function splitList(s: string | undefined): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
