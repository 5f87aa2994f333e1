// Turns one service mapping into the normalized Service model, one concern at a time.
import path from 'node:path';
import type { LoadContext } from './context.ts';
import { readDependsOn } from './depends.ts';
import { readDuration, readSize } from './durations.ts';
import { readEnvFiles, readEnvironment, readLabels } from './environment.ts';
import { readHealthcheck } from './healthcheck.ts';
import { checkHerdRollout, readHerdService } from './herd-ext.ts';
import { defaultService } from './defaults.ts';
import { join } from './interpolate-tree.ts';
import { ALL_SERVICE_KEYS, OTHER_SERVICE_KEYS, PROCESS_RESOURCE_KEYS } from './keys.ts';
import type { Resources, Service } from './model.ts';
import { readExpose, readPorts } from './ports.ts';
import { readDeploy, readRestart } from './restart.ts';
import { runtimeKind } from './runtime-kind.ts';
import { ShellWordsError, splitShellWords } from './shellwords.ts';
import { toSignal } from './signals.ts';
import { readBuild, readVolumes } from './volumes.ts';
import type { CMap, CNode } from './yaml-source.ts';
import type { Checker } from './check.ts';

export interface ServiceResult {
  service: Service;
  /** depends_on name -> node, for positioned errors once all services are known. */
  dependencyNodes: Record<string, CNode>;
}

export function readService(name: string, map: CMap, ctx: LoadContext): ServiceResult {
  const { c } = ctx;
  const p = `services.${name}`;
  c.keys(map, p, ALL_SERVICE_KEYS);
  const get = (k: string) => map.entries.get(k)?.value;
  const svc: Service = defaultService(name);
  let dependencyNodes: Record<string, CNode> = {};
  const ignored: string[] = [];
  let scaleNode: CNode | undefined;
  let deployRestart: Service['restart'] | undefined;
  let deployReplicas: { value: number; node: CNode } | undefined;
  const legacy: Resources = { limits: {}, reservations: {} };
  /** Every resource key set, as a path under the service, for the process-runtime warning. */
  const resourceKeys: string[] = [];

  for (const [key, entry] of map.entries) {
    const v = entry.value;
    const kp = join(p, key);
    // An explicit null means "not set" in Compose (often left by an override file).
    if (v.kind === 'scalar' && v.value === null && key !== 'depends_on') continue;
    switch (key) {
      case 'image':
        svc.image = c.string(v, kp);
        break;
      case 'build':
        svc.build = readBuild(v, kp, ctx);
        break;
      case 'command':
      case 'entrypoint': {
        const argv = readCommand(v, kp, ctx);
        if (argv) svc[key] = argv;
        break;
      }
      case 'environment':
        Object.assign(svc.environment, readEnvironment(v, kp, ctx));
        break;
      case 'env_file':
        break; // read below so environment wins over it
      case 'working_dir': {
        const wd = c.string(v, kp);
        if (wd !== undefined) svc.workingDir = path.resolve(ctx.projectDir, wd);
        break;
      }
      case 'user':
        svc.user = c.string(v, kp);
        break;
      case 'ports':
        svc.ports = readPorts(v, kp, c);
        break;
      case 'expose':
        svc.expose = readExpose(v, kp, c);
        break;
      case 'scale': {
        const n = c.replicas(v, kp);
        if (n !== undefined) {
          svc.scale = n;
          scaleNode = v;
        }
        break;
      }
      case 'restart': {
        const r = readRestart(v, kp, c);
        if (r) svc.restart = r;
        break;
      }
      case 'deploy': {
        const d = readDeploy(v, kp, c);
        deployRestart = d.restart;
        deployReplicas = d.replicas;
        svc.resources = d.resources;
        ignored.push(...d.ignored);
        resourceKeys.push(...d.resourceKeys);
        break;
      }
      case 'cpus':
      case 'mem_limit':
      case 'mem_reservation':
      case 'pids_limit':
        readLegacyResource(key, v, kp, c, legacy);
        resourceKeys.push(key);
        break;
      case 'healthcheck':
        svc.healthcheck = readHealthcheck(v, kp, c);
        break;
      case 'depends_on': {
        if (v.kind === 'scalar' && v.value === null) break;
        const d = readDependsOn(v, kp, c);
        svc.dependsOn = d.deps;
        dependencyNodes = d.nodes;
        break;
      }
      case 'stop_signal': {
        const raw =
          v.kind === 'scalar' && (typeof v.value === 'string' || typeof v.value === 'number')
            ? v.value
            : undefined;
        const sig = raw === undefined ? undefined : toSignal(raw);
        if (sig) svc.stopSignal = sig;
        else c.fail(v, kp, 'a signal name such as SIGTERM, TERM or SIGINT, or a signal number');
        break;
      }
      case 'stop_grace_period': {
        const ms = readDuration(v, kp, c);
        if (ms !== undefined) svc.stopGracePeriodMs = ms;
        break;
      }
      case 'profiles':
        svc.profiles = c.stringList(v, kp) ?? [];
        break;
      case 'labels':
        svc.labels = readLabels(v, kp, ctx);
        break;
      case 'volumes':
        svc.volumes = readVolumes(v, kp, ctx);
        break;
      case 'x-herd':
        svc.herd = readHerdService(name, v, kp, c);
        break;
      default:
        if (OTHER_SERVICE_KEYS.includes(key)) ignored.push(key);
    }
  }
  const envFile = get('env_file');
  if (envFile && !(envFile.kind === 'scalar' && envFile.value === null)) {
    svc.environment = { ...readEnvFiles(envFile, join(p, 'env_file'), ctx), ...svc.environment };
  }
  // deploy.resources wins over the older service-level keys, field by field.
  svc.resources = {
    limits: { ...legacy.limits, ...svc.resources.limits },
    reservations: { ...legacy.reservations, ...svc.resources.reservations },
  };
  // deploy.restart_policy wins over `restart:` when both are given, as in Compose
  // (getRestartPolicy reads `restart:` first, then lets the deploy policy replace it).
  if (deployRestart) svc.restart = deployRestart;
  if (deployReplicas) {
    if (scaleNode && svc.scale !== deployReplicas.value) {
      c.diag.error(
        deployReplicas.node.pos,
        join(p, 'deploy.replicas'),
        `conflicts with scale: ${svc.scale} (they must be equal when both are set)`,
      );
    }
    svc.scale = deployReplicas.value;
  }
  if (ignored.length > 0) {
    c.diag.warn(
      `service "${name}": herd does not honour ${ignored.map((k) => `\`${k}\``).join(', ')} (ignored)`,
    );
  }
  warnProcessResources(svc, resourceKeys, c);
  const herdNode = get('x-herd');
  if (herdNode) checkHerdRollout(herdNode, join(p, 'x-herd'), svc, c);
  return { service: dropUndefinedKeys(svc), dependencyNodes };
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

/** A process replica gets a memory limit and nothing else: say so for the other resource keys,
 * rather than let a file that relies on them run unconstrained without a word. Containers apply
 * them (or the engine reports what it cannot), so they are not warned about. */
function warnProcessResources(svc: Service, keys: string[], c: Checker): void {
  const ignored = keys.filter((k) => !PROCESS_RESOURCE_KEYS.includes(k));
  if (ignored.length === 0 || runtimeKind(svc) !== 'process') return;
  c.diag.warn(
    `service "${svc.name}": ${ignored.map((k) => `\`${k}\``).join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ` +
      'ignored by the process runtime (a process replica gets only its memory limit; ' +
      'run the service in Docker for the others)',
  );
}

/** `cpus`, `mem_limit`, `mem_reservation`, `pids_limit` at service level. */
function readLegacyResource(key: string, v: CNode, p: string, c: Checker, into: Resources): void {
  if (key === 'cpus') {
    const raw = v.kind === 'scalar' ? v.value : undefined;
    const n =
      typeof raw === 'number'
        ? raw
        : typeof raw === 'string' && raw.trim() !== ''
          ? Number(raw)
          : NaN;
    if (Number.isFinite(n) && n >= 0) into.limits.cpus = n;
    else c.fail(v, p, 'a number of CPUs such as 0.5 or "2"');
  } else if (key === 'pids_limit') {
    // -1 means unlimited in Compose.
    if (v.kind === 'scalar' && (v.value === -1 || v.value === '-1')) return;
    const n = c.int(v, p, 'a number of processes, or -1 for unlimited');
    if (n !== undefined) into.limits.pids = n;
  } else {
    const b = readSize(v, p, c);
    // 0 means "no limit" to Docker; see readResourceSet.
    if (b !== undefined && b > 0)
      into[key === 'mem_limit' ? 'limits' : 'reservations'].memoryBytes = b;
  }
}
