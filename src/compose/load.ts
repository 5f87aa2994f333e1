// loadProject: find the files, build the environment, parse, interpolate, resolve extends, merge,
// validate and normalize into the Project model, reporting every problem at once.
import { checkAutoscaleNeeds } from './autoscale-needs.ts';
import { Checker } from './check.ts';
import type { LoadContext } from './context.ts';
import { checkDependencies } from './depends.ts';
import { ComposeError, type Diagnostics } from './errors.ts';
import { readHerdProject } from './herd-ext.ts';
import { projectInputs, type LoadOptions, type ProjectInputs } from './inputs.ts';
import { readIngress } from './ingress-ext.ts';
import { TOP_LEVEL_KEYS } from './keys.ts';
import { readMerged } from './merged.ts';
import type { Project, Service } from './model.ts';
import { readNetworks, warnProcessNetworks } from './networks.ts';
import { selectServices } from './profiles.ts';
import { checkReferences } from './references.ts';
import { checkExternalUse, readFileObjects } from './secrets.ts';
import { readService, readServiceEnvFiles } from './service.ts';
import { readNamedVolumes } from './volumes.ts';
import { describe, type CEntry, type CMap, type CNode } from './yaml-source.ts';

export { ComposeError };
export type { LoadOptions };

const IGNORED_TOP_LEVEL = ['models'];

/** What a load starts from (inputs.ts), with the checker the load reports through. */
export interface LoadInputs extends ProjectInputs {
  c: Checker;
}

export function loadInputs(opts: LoadOptions): LoadInputs {
  const inputs = projectInputs(opts);
  return { ...inputs, c: new Checker(inputs.diag) };
}

export async function loadProject(opts: LoadOptions = {}): Promise<Project> {
  const inputs = loadInputs(opts);
  const { files, projectDir, diag, c } = inputs;
  diag.throwIfErrors();

  const { root, name, env, nameLiteral } = await readMerged(inputs, opts.projectName);
  opts.onName?.(name, nameLiteral);
  checkTopLevel(root, c);
  const get = (k: string) => root.entries.get(k)?.value;
  const ctx: LoadContext = { c, projectDir, lookup: (n: string) => env[n] };
  checkReferences(root, c);
  const { all, depNodes, envFiles } = readServices(get('services'), ctx);

  const profiles =
    opts.profiles && opts.profiles.length > 0 ? opts.profiles : splitList(env.COMPOSE_PROFILES);
  const selection = selectServices(all, profiles, opts.enableServices ?? [], diag);
  const { services, disabled, named } = selection;
  for (const [n, node] of Object.entries(envFiles))
    if (services[n])
      readServiceEnvFiles(services[n], node, ctx, named !== undefined && !named.has(n));
  checkDependencies(services, depNodes, disabled, diag);
  const volumesNode = get('volumes');
  const volumes = isSet(volumesNode) ? readNamedVolumes(volumesNode, 'volumes', ctx) : {};
  const shared = readSharedObjects(get, services, name, ctx);
  const herd = readHerdProject(get('x-herd'), c);
  readIngress(get('x-herd'), get('services'), services, herd, projectDir, c);
  checkAutoscaleNeeds(get('services'), services, c);
  diag.throwIfErrors();

  return {
    name,
    workingDir: projectDir,
    composeFiles: files,
    services,
    volumes,
    ...shared,
    herd,
    warnings: diag.warnings,
  };
}

/** Top-level secrets, configs and networks, each only when the file has it. */
function readSharedObjects(
  get: (k: string) => CNode | undefined,
  services: Record<string, Service>,
  name: string,
  ctx: LoadContext,
): Pick<Project, 'secrets' | 'configs' | 'networks'> {
  const out: Pick<Project, 'secrets' | 'configs' | 'networks'> = {};
  for (const kind of ['secrets', 'configs'] as const) {
    const node = get(kind);
    if (!isSet(node)) continue;
    const objects = readFileObjects(node, kind, ctx);
    out[kind] = objects;
    checkExternalUse(services, objects, kind, ctx.c.diag);
  }
  const networks = get('networks');
  if (isSet(networks)) out.networks = readNetworks(networks, name, ctx);
  warnProcessNetworks(services, ctx);
  return out;
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
  for (const k of IGNORED_TOP_LEVEL) {
    if (root.entries.has(k))
      diag.warn(`top-level \`${k}\` is not honoured by herd's process runtime (ignored)`);
  }
}

/** Every service under `services:` (before profiles select), with its depends_on nodes. */
function readServices(
  servicesNode: CNode | undefined,
  ctx: LoadContext,
): {
  all: Record<string, Service>;
  depNodes: Record<string, Record<string, CNode>>;
  envFiles: Record<string, CNode>;
} {
  const all: Record<string, Service> = {};
  const depNodes: Record<string, Record<string, CNode>> = {};
  const envFiles: Record<string, CNode> = {};
  if (!isSet(servicesNode)) return { all, depNodes, envFiles };
  for (const [svcName, e] of ctx.c.map(servicesNode, 'services')?.entries ?? []) {
    if (svcName.startsWith('x-') || !isServiceEntry(svcName, e, ctx.c.diag)) continue;
    const r = readService(svcName, e.value as CMap, ctx);
    checkRunnable(r.service, e, ctx.c.diag);
    all[svcName] = r.service;
    depNodes[svcName] = r.dependencyNodes;
    if (r.envFile) envFiles[svcName] = r.envFile;
  }
  return { all, depNodes, envFiles };
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

function splitList(s: string | undefined): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
