// What a process replica is started with: its argv, its environment and the ports it listens on.
import type { Project, Service } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';
import type { ReplicaSpec } from './types.ts';
import { allocatePort } from './ports.ts';
import { resolveUser } from './process/user.ts';
import { containerServiceAddresses } from './docker/container-env.ts';

export type ServiceAddresses = () => Record<string, { host: string; port: number }>;

/** `web-api` → `WEB_API`, as Kubernetes names service env vars. */
export function envName(service: string): string {
  return service.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** The argv a process replica runs: entrypoint + command, as Docker combines them. */
export function processCommand(service: Service): string[] {
  const argv = [...(service.entrypoint ?? []), ...(service.command ?? [])];
  if (argv.length > 0) return argv;
  if (service.image !== undefined) {
    throw new HerdError(
      `service "${service.name}" has image "${service.image}" but no command, so it cannot run as a ` +
        'local process: add `command:` (the program to run on this machine), or run it in Docker ' +
        'with `x-herd: {runtime: docker}` once a Docker engine is available',
    );
  }
  throw new HerdError(
    `service "${service.name}" has nothing to run: add \`command:\` (e.g. command: ["node", "app.js"])`,
  );
}

/** The replica's resource limits, as the service's resources give them. */
export function specLimits(service: Service): Partial<ReplicaSpec> {
  const { limits, reservations, memswapBytes, cpuShares } = service.resources;
  const spec: Partial<ReplicaSpec> = {
    memoryLimitBytes: limits.memoryBytes,
    memswapLimitBytes: memswapBytes,
    memoryReservationBytes: reservations.memoryBytes,
    cpus: limits.cpus,
    cpuShares,
    pidsLimit: limits.pids,
  };
  for (const k of Object.keys(spec) as (keyof ReplicaSpec)[])
    if (spec[k] === undefined) delete spec[k];
  return spec;
}

/** Target ports a replica listens on, in declaration order: ports first, then expose. */
export function targetPorts(service: Service): number[] {
  const seen = new Set<number>();
  for (const p of service.ports) seen.add(p.target);
  for (const e of service.expose) seen.add(e.port);
  return [...seen];
}

/** Host port for one target of replica `index`: always a private loopback port. With a published
 * range (`8080-8082:80`) the balancer binds port start+n-1 as replica n's own listener (Compose's
 * meaning, no balancing) in front of it, so replica and listener never collide; a replica beyond
 * the range is an error. */
async function hostPortFor(service: Service, target: number, index: number): Promise<number> {
  const range = service.ports.find((p) => p.target === target && p.published)?.published;
  if (range && range.end > range.start && range.start + index - 1 > range.end) {
    throw new HerdError(
      `service "${service.name}": replica ${index} has no host port left in ${range.start}-${range.end}; ` +
        'widen the range or lower the scale',
    );
  }
  return allocatePort();
}

export interface ReplicaPlan {
  spec: ReplicaSpec;
  /** target → host port */
  ports: Record<number, number>;
}

export interface PlanOptions {
  serviceAddresses?: ServiceAddresses;
  /** Environment the replica inherits before the service's own (default: herd's own). */
  baseEnv?: Record<string, string | undefined>;
  /** Docker runs the image's default command when the service names none. */
  allowImageDefault?: boolean;
  /** The replica is a container (default: when `allowImageDefault` is set, i.e. Docker): see
   * planContainer. */
  container?: boolean;
}

export async function planReplica(
  project: Project,
  service: Service,
  index: number,
  opts: PlanOptions = {},
): Promise<ReplicaPlan> {
  if (opts.container ?? opts.allowImageDefault === true) {
    return planContainer(project, service, index);
  }
  const command = opts.allowImageDefault
    ? [...(service.entrypoint ?? []), ...(service.command ?? [])]
    : processCommand(service);
  const ports: Record<number, number> = {};
  const targets = targetPorts(service);
  for (const t of targets) ports[t] = await hostPortFor(service, t, index);
  const first = targets[0];
  const port = first !== undefined ? (ports[first] as number) : await allocatePort();

  const env: Record<string, string> = {};
  // A local process needs PATH, HOME, … so it inherits herd's environment, like a shell would.
  for (const [k, v] of Object.entries(opts.baseEnv ?? process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, service.environment);
  for (const [name, addr] of Object.entries(opts.serviceAddresses?.() ?? {})) {
    env[`${envName(name)}_SERVICE_HOST`] = addr.host;
    env[`${envName(name)}_SERVICE_PORT`] = String(addr.port);
  }
  env.PORT = String(port);
  for (const t of targets) env[`PORT_${t}`] = String(ports[t]);
  env.HERD_PROJECT = project.name;
  env.HERD_SERVICE = service.name;
  env.HERD_REPLICA = String(index);

  const ids = service.user !== undefined ? resolveUser(service.user, service.name) : undefined;
  // herd's own HOME/USER would point a process running as another user at root's files.
  if (ids?.name !== undefined) {
    for (const key of ['USER', 'LOGNAME'] as const) {
      if (service.environment[key] === undefined) env[key] = ids.name;
    }
    if (ids.home && service.environment.HOME === undefined) env.HOME = ids.home;
  }
  const spec: ReplicaSpec = {
    project: project.name,
    service: service.name,
    index,
    name: `${project.name}-${service.name}-${index}`,
    command,
    env,
    cwd: service.workingDir ?? project.workingDir,
    port,
    stopSignal: service.stopSignal,
    stopGracePeriodMs: service.stopGracePeriodMs,
    ...specLimits(service),
    user: service.user,
    uid: ids?.uid,
    gid: ids?.gid,
  };
  return { spec, ports };
}

/** A container replica listens on its target ports inside its own network namespace, so `PORT` is
 * the first target (not a host port), `PORT_<t>` is `t`, and the other services' addresses are
 * the ones reachable from the project network (docker/container-env.ts). Its host side is a
 * fresh 127.0.0.1 port per target, which the runtime publishes and the balancer forwards to;
 * published ports (ranges too) belong to herd's balancer, never to a container. The image's ENV
 * applies, so herd's own environment is not passed on. `command` is the service's `command:`
 * only: Docker puts `entrypoint:` in front of it. */
async function planContainer(
  project: Project,
  service: Service,
  index: number,
): Promise<ReplicaPlan> {
  const targets = targetPorts(service);
  const ports: Record<number, number> = {};
  for (const t of targets) ports[t] = await allocatePort();
  const env: Record<string, string> = { ...service.environment };
  for (const [name, addr] of Object.entries(containerServiceAddresses(project))) {
    env[`${envName(name)}_SERVICE_HOST`] = addr.host;
    env[`${envName(name)}_SERVICE_PORT`] = String(addr.port);
  }
  const first = targets[0];
  if (first !== undefined) env.PORT = String(first);
  for (const t of targets) env[`PORT_${t}`] = String(t);
  env.HERD_PROJECT = project.name;
  env.HERD_SERVICE = service.name;
  env.HERD_REPLICA = String(index);
  const spec: ReplicaSpec = {
    project: project.name,
    service: service.name,
    index,
    name: `${project.name}-${service.name}-${index}`,
    command: service.command ?? [],
    env,
    cwd: service.workingDir ?? project.workingDir,
    port: first,
    hostPorts: { ...ports },
    stopSignal: service.stopSignal,
    stopGracePeriodMs: service.stopGracePeriodMs,
    ...specLimits(service),
    user: service.user,
  };
  return { spec, ports };
}
