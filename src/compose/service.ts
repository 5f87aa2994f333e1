// Turns one service mapping into the normalized Service model, one concern at a time.
import path from 'node:path';
import type { LoadContext } from './context.ts';
import { readDependsOn } from './depends.ts';
import { readDuration } from './durations.ts';
import { readEnvFiles, readEnvironment, readLabels } from './environment.ts';
import { readHealthcheck } from './healthcheck.ts';
import { checkHerdRollout, readHerdService } from './herd-ext.ts';
import { defaultService } from './defaults.ts';
import { join } from './interpolate-tree.ts';
import { ALL_SERVICE_KEYS, OTHER_SERVICE_KEYS, PROCESS_RESOURCE_KEYS } from './keys.ts';
import type { Resources, Service } from './model.ts';
import { readServiceNetworks } from './networks.ts';
import { readExpose, readPorts } from './ports.ts';
import { checkResources, readServiceResource } from './resources.ts';
import { readDeploy, readRestart } from './restart.ts';
import { runtimeKind } from './runtime-kind.ts';
import { readFileMounts } from './secrets.ts';
import { ShellWordsError, splitShellWords } from './shellwords.ts';
import { toSignal } from './signals.ts';
import { readBuild, readVolumes } from './volumes.ts';
import type { CMap, CNode } from './yaml-source.ts';
import { Checker } from './check.ts';
import { Diagnostics } from './errors.ts';

export interface ServiceResult {
  service: Service;
  /** depends_on name -> node, for positioned errors once all services are known. */
  dependencyNodes: Record<string, CNode>;
  /** `env_file`, read once the services to run are known (readServiceEnvFiles). */
  envFile?: CNode;
}

/** One service being read: the Service so far, and what the rules across keys need afterwards. */
interface Reading {
  ctx: LoadContext;
  svc: Service;
  dependencyNodes: Record<string, CNode>;
  /** Keys herd reads but does not honour, for one warning. */
  ignored: string[];
  scaleNode?: CNode;
  deployRestart?: Service['restart'];
  deployReplicas?: { value: number; node: CNode };
  /** The service-level resource keys (`cpus`, `mem_limit` …), which deploy.resources overrides. */
  legacy: Resources;
  /** Every resource key set, as a path under the service, for the process-runtime warning. */
  resourceKeys: string[];
}

type KeyReader = (v: CNode, kp: string, r: Reading, key: string) => void;

export function readService(name: string, map: CMap, ctx: LoadContext): ServiceResult {
  const p = `services.${name}`;
  ctx.c.keys(map, p, ALL_SERVICE_KEYS);
  const r: Reading = {
    ctx,
    svc: defaultService(name),
    dependencyNodes: {},
    ignored: [],
    legacy: { limits: {}, reservations: {} },
    resourceKeys: [],
  };
  for (const [key, entry] of map.entries) {
    const v = entry.value;
    // An explicit null means "not set" in Compose (often left by an override file).
    if (v.kind === 'scalar' && v.value === null && key !== 'depends_on') continue;
    const read = KEY_READERS.get(key);
    if (read) read(v, join(p, key), r, key);
    else if (OTHER_SERVICE_KEYS.includes(key)) r.ignored.push(key);
  }
  applyCrossKeyRules(r, map, p);
  const envFile = map.entries.get('env_file')?.value;
  return {
    service: dropUndefinedKeys(r.svc),
    dependencyNodes: r.dependencyNodes,
    envFile:
      envFile && !(envFile.kind === 'scalar' && envFile.value === null) ? envFile : undefined,
  };
}

/** env_file under environment (environment wins). Compose reads the env files of the services it
 * was asked for only, so `config web` does not fail on another service's missing one: `quiet`
 * reads what is there and reports nothing. */
export function readServiceEnvFiles(
  svc: Service,
  node: CNode,
  ctx: LoadContext,
  quiet: boolean,
): void {
  const c = quiet ? new Checker(new Diagnostics()) : ctx.c;
  const fromFiles = readEnvFiles(node, `services.${svc.name}.env_file`, { ...ctx, c });
  svc.environment = { ...fromFiles, ...svc.environment };
}

const readCommandKey: KeyReader = (v, kp, r, key) => {
  const argv = readCommand(v, kp, r.ctx);
  if (argv) r.svc[key as 'command' | 'entrypoint'] = argv;
};

const readLegacyKey: KeyReader = (v, kp, r, key) => {
  readServiceResource(key, v, kp, r.ctx.c, r.legacy);
  r.resourceKeys.push(key);
};

/** How each service key is read; keys not here are either ignored-with-a-warning or unknown
 * (already reported by the key check). */
const KEY_READERS = new Map<string, KeyReader>([
  ['image', (v, kp, r) => (r.svc.image = r.ctx.c.string(v, kp))],
  ['build', (v, kp, r) => (r.svc.build = readBuild(v, kp, r.ctx))],
  ['command', readCommandKey],
  ['entrypoint', readCommandKey],
  ['environment', (v, kp, r) => Object.assign(r.svc.environment, readEnvironment(v, kp, r.ctx))],
  // env_file is read once every key is, so that environment wins over it.
  ['env_file', () => undefined],
  ['working_dir', readWorkingDir],
  ['user', (v, kp, r) => (r.svc.user = r.ctx.c.string(v, kp))],
  ['ports', (v, kp, r) => (r.svc.ports = readPorts(v, kp, r.ctx.c))],
  ['expose', (v, kp, r) => (r.svc.expose = readExpose(v, kp, r.ctx.c))],
  ['scale', readScale],
  ['restart', readRestartKey],
  ['deploy', readDeployKey],
  ['cpus', readLegacyKey],
  ['cpu_shares', readLegacyKey],
  ['mem_limit', readLegacyKey],
  ['mem_reservation', readLegacyKey],
  ['memswap_limit', readLegacyKey],
  ['pids_limit', readLegacyKey],
  ['healthcheck', (v, kp, r) => (r.svc.healthcheck = readHealthcheck(v, kp, r.ctx.c))],
  ['depends_on', readDependsOnKey],
  ['stop_signal', readStopSignal],
  ['stop_grace_period', readStopGrace],
  ['profiles', (v, kp, r) => (r.svc.profiles = r.ctx.c.stringList(v, kp) ?? [])],
  ['labels', (v, kp, r) => (r.svc.labels = readLabels(v, kp, r.ctx))],
  ['volumes', (v, kp, r) => (r.svc.volumes = readVolumes(v, kp, r.ctx))],
  ['secrets', (v, kp, r) => (r.svc.secrets = readFileMounts(v, kp, 'secrets', r.ctx))],
  ['configs', (v, kp, r) => (r.svc.configs = readFileMounts(v, kp, 'configs', r.ctx))],
  ['networks', (v, kp, r) => (r.svc.networks = readServiceNetworks(v, kp, r.ctx))],
  ['x-herd', (v, kp, r) => (r.svc.herd = readHerdService(v, kp, r.ctx.c))],
]);

function readWorkingDir(v: CNode, kp: string, r: Reading): void {
  const wd = r.ctx.c.string(v, kp);
  if (wd !== undefined) r.svc.workingDir = path.resolve(r.ctx.projectDir, wd);
}

function readScale(v: CNode, kp: string, r: Reading): void {
  const n = r.ctx.c.replicas(v, kp);
  if (n === undefined) return;
  r.svc.scale = n;
  r.scaleNode = v;
}

function readRestartKey(v: CNode, kp: string, r: Reading): void {
  const policy = readRestart(v, kp, r.ctx.c);
  if (policy) r.svc.restart = policy;
}

function readDeployKey(v: CNode, kp: string, r: Reading): void {
  const d = readDeploy(v, kp, r.ctx.c);
  r.deployRestart = d.restart;
  r.deployReplicas = d.replicas;
  r.svc.resources = d.resources;
  if (d.update) r.svc.updateConfig = d.update;
  if (d.rollback) r.svc.rollbackConfig = d.rollback;
  r.ignored.push(...d.ignored);
  r.resourceKeys.push(...d.resourceKeys);
}

function readDependsOnKey(v: CNode, kp: string, r: Reading): void {
  if (v.kind === 'scalar' && v.value === null) return;
  const d = readDependsOn(v, kp, r.ctx.c);
  r.svc.dependsOn = d.deps;
  r.dependencyNodes = d.nodes;
}

function readStopSignal(v: CNode, kp: string, r: Reading): void {
  const raw =
    v.kind === 'scalar' && (typeof v.value === 'string' || typeof v.value === 'number')
      ? v.value
      : undefined;
  const sig = raw === undefined ? undefined : toSignal(raw);
  if (sig) r.svc.stopSignal = sig;
  else r.ctx.c.fail(v, kp, 'a signal name such as SIGTERM, TERM or SIGINT, or a signal number');
}

function readStopGrace(v: CNode, kp: string, r: Reading): void {
  const ms = readDuration(v, kp, r.ctx.c);
  if (ms !== undefined) r.svc.stopGracePeriodMs = ms;
}

/** What depends on several keys: deploy over the older keys, the
 * scale/deploy.replicas agreement, and the warnings. */
function applyCrossKeyRules(r: Reading, map: CMap, p: string): void {
  const { svc, ctx } = r;
  const { c } = ctx;
  // deploy.resources wins over the older service-level keys, field by field.
  svc.resources = {
    ...r.legacy,
    limits: { ...r.legacy.limits, ...svc.resources.limits },
    reservations: { ...r.legacy.reservations, ...svc.resources.reservations },
  };
  checkResources(svc, map, p, c);
  // deploy.restart_policy wins over `restart:` when both are given, as in Compose
  // (getRestartPolicy reads `restart:` first, then lets the deploy policy replace it).
  if (r.deployRestart) svc.restart = r.deployRestart;
  if (r.deployReplicas) {
    if (r.scaleNode && svc.scale !== r.deployReplicas.value) {
      c.diag.error(
        r.deployReplicas.node.pos,
        join(p, 'deploy.replicas'),
        `conflicts with scale: ${svc.scale} (they must be equal when both are set)`,
      );
    }
    svc.scale = r.deployReplicas.value;
  }
  if (r.ignored.length > 0) {
    c.diag.warn(
      `service "${svc.name}": herd does not honour ${r.ignored.map((k) => `\`${k}\``).join(', ')} (ignored)`,
    );
  }
  warnProcessResources(svc, r.resourceKeys, c);
  const herdNode = map.entries.get('x-herd')?.value;
  if (herdNode) checkHerdRollout(herdNode, join(p, 'x-herd'), svc, c);
}

/** `command`/`entrypoint`: a string is split like a shell would (no shell runs); a list is kept. */
function readCommand(node: CNode, p: string, ctx: LoadContext): string[] | undefined {
  const { c } = ctx;
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    try {
      return splitShellWords(node.value);
    } catch (err) {
      if (!(err instanceof ShellWordsError)) throw err;
      c.diag.error(node.pos, p, err.message);
      return undefined;
    }
  }
  if (node.kind === 'seq') {
    const out: string[] = [];
    node.items.forEach((item, i) => {
      if (item.kind === 'scalar' && typeof item.value === 'boolean') out.push(String(item.value));
      else {
        const s = c.string(item, `${p}[${i}]`);
        if (s !== undefined) out.push(s);
      }
    });
    return out;
  }
  return c.fail(node, p, 'a string or a list of strings');
}

function dropUndefinedKeys(svc: Service): Service {
  for (const k of Object.keys(svc) as (keyof Service)[]) if (svc[k] === undefined) delete svc[k];
  return svc;
}

/** A process replica's cgroup enforces memory, CPU and pids limits but not the rest (CPU
 * reservations, devices): say so for those, rather than let a file that relies on them run
 * without a word. Containers apply them (or the engine reports what it cannot), so they are not
 * warned about. */
function warnProcessResources(svc: Service, keys: string[], c: Checker): void {
  const ignored = keys.filter((k) => !PROCESS_RESOURCE_KEYS.includes(k));
  if (ignored.length === 0 || runtimeKind(svc) !== 'process') return;
  c.diag.warn(
    `service "${svc.name}": ${ignored.map((k) => `\`${k}\``).join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ` +
      'ignored by the process runtime (a process replica is limited in memory, CPU and pids ' +
      'only; run the service in Docker for the others)',
  );
}
