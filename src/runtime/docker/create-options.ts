// Translates one replica of a Compose service into the Engine API's container create body.
// Pure: everything it needs comes in as arguments, so it is checked without an engine.
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { ContainerCreateOptions, MountSettings } from 'dockerode';
import type { Healthcheck, PortSpec, Project, Service, VolumeMount } from '../../compose/model.ts';
import type { ReplicaSpec } from '../types.ts';
import {
  COMPOSE_CONFIG_FILES,
  COMPOSE_CONFIG_HASH,
  COMPOSE_NUMBER,
  COMPOSE_ONEOFF,
  COMPOSE_SERVICE,
  COMPOSE_SLUG,
  COMPOSE_WORKING_DIR,
  HERD_CONFIG_HASH,
  HERD_REPLICA,
  HERD_SERVICE,
  projectLabels,
} from './labels.ts';
import { HOST_ALIAS, needsHostAlias } from './container-env.ts';
import { fileMounts } from './given-files.ts';
import { attachments } from './networks.ts';

const NS_PER_MS = 1_000_000;

/** Compose's default image name for a service that is built and has no `image:`. */
export function builtImageName(project: string, service: Service): string {
  return service.image ?? `${project}-${service.name}`;
}

/** The engine's name of a volume the compose file calls `key`. */
export function volumeEngineName(project: Project, key: string): string {
  const declared = project.volumes[key];
  if (declared && (declared.external || (declared.name && declared.name !== key)))
    return declared.name;
  return `${project.name}_${key}`;
}

/** Every container port the replica gets published on 127.0.0.1 (ports, expose and spec.port). */
export function containerPorts(service: Service, spec: ReplicaSpec): string[] {
  const keys = new Set<string>();
  for (const p of service.ports) keys.add(`${p.target}/${p.protocol}`);
  for (const e of service.expose) keys.add(`${e.port}/${e.protocol}`);
  if (spec.port !== undefined) keys.add(`${spec.port}/tcp`);
  return [...keys];
}

export function configHash(service: Service): string {
  return createHash('sha256').update(JSON.stringify(service)).digest('hex');
}

export function healthConfig(
  check: Healthcheck,
): NonNullable<ContainerCreateOptions['Healthcheck']> {
  const config: NonNullable<ContainerCreateOptions['Healthcheck']> = {
    Interval: check.intervalMs * NS_PER_MS,
    Timeout: check.timeoutMs * NS_PER_MS,
    Retries: check.retries,
    StartPeriod: check.startPeriodMs * NS_PER_MS,
    StartInterval: check.startIntervalMs * NS_PER_MS,
  };
  // No test: keep the image's own HEALTHCHECK command, with the compose file's timings.
  if (check.test?.kind === 'exec') config.Test = ['CMD', ...check.test.argv];
  else if (check.test?.kind === 'shell') config.Test = ['CMD-SHELL', check.test.command];
  return config;
}

function mounts(project: Project, service: Service): MountSettings[] {
  return [...service.volumes.map((v) => volumeMount(project, v)), ...fileMounts(project, service)];
}

function volumeMount(project: Project, v: VolumeMount): MountSettings {
  if (v.type === 'bind') {
    const source = v.source ?? '.';
    return {
      Type: 'bind',
      Source: isAbsolute(source) ? source : resolve(project.workingDir, source),
      Target: v.target,
      ReadOnly: v.readOnly,
    };
  }
  if (v.type === 'tmpfs')
    return { Type: 'tmpfs', Source: '', Target: v.target, ReadOnly: v.readOnly };
  // A volume without a source is anonymous: the engine creates it.
  const mount: MountSettings = {
    Type: 'volume',
    Source: '',
    Target: v.target,
    ReadOnly: v.readOnly,
  };
  if (v.source) mount.Source = volumeEngineName(project, v.source);
  return mount;
}

export interface CreateInput {
  project: Project;
  service: Service;
  spec: ReplicaSpec;
  image: string;
}

export function containerCreateOptions({
  project,
  service,
  spec,
  image,
}: CreateInput): ContainerCreateOptions {
  const ports = containerPorts(service, spec);
  const limits = service.resources.limits;
  const memory = spec.memoryLimitBytes ?? limits.memoryBytes;
  const networks = attachments(project, service);
  const options: ContainerCreateOptions = {
    name: spec.name,
    Image: image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      ...service.labels,
      ...projectLabels(project.name),
      [COMPOSE_SERVICE]: service.name,
      [COMPOSE_NUMBER]: String(spec.index),
      [COMPOSE_ONEOFF]: 'False',
      [COMPOSE_WORKING_DIR]: project.workingDir,
      [COMPOSE_CONFIG_FILES]: project.composeFiles.join(','),
      [COMPOSE_CONFIG_HASH]: configHash(service),
      [HERD_SERVICE]: service.name,
      [HERD_REPLICA]: String(spec.index),
    },
    ExposedPorts: Object.fromEntries(ports.map((p) => [p, {}])),
    StopSignal: spec.stopSignal,
    // The engine takes whole seconds; round up so the grace period is never shorter than asked.
    StopTimeout: Math.ceil(spec.stopGracePeriodMs / 1000),
    HostConfig: {
      // herd supervises restarts itself; the engine must not race it.
      RestartPolicy: { Name: 'no' },
      NetworkMode: networks[0]!.def.name,
      // Published on loopback only: herd's balancer owns the public ports.
      // The host port herd planned for the target (so the engine knows it before the start),
      // else one the engine picks.
      PortBindings: Object.fromEntries(
        ports.map((p) => [p, [{ HostIp: '127.0.0.1', HostPort: hostPortFor(spec, p) }]]),
      ),
      Mounts: mounts(project, service),
    },
    NetworkingConfig: {
      EndpointsConfig: Object.fromEntries(
        networks.map((n) => [n.def.name, { Aliases: [service.name, spec.name, ...n.aliases] }]),
      ),
    },
  };
  const host = options.HostConfig!;
  if (memory !== undefined) host.Memory = memory;
  if (limits.cpus !== undefined) host.NanoCpus = Math.round(limits.cpus * 1e9);
  if (limits.pids !== undefined) host.PidsLimit = limits.pids;
  // The rest of Compose's resource keys, as Compose hands them to the engine.
  const { memswapBytes, cpuShares, reservations } = service.resources;
  if (memswapBytes !== undefined) host.MemorySwap = memswapBytes;
  if (reservations.memoryBytes !== undefined) host.MemoryReservation = reservations.memoryBytes;
  if (cpuShares !== undefined) host.CpuShares = cpuShares;
  // An explicit replica command wins; otherwise the service's, otherwise the image's CMD.
  const cmd = spec.command.length > 0 ? spec.command : service.command;
  if (cmd) options.Cmd = cmd;
  if (service.entrypoint) options.Entrypoint = service.entrypoint;
  if (service.workingDir) options.WorkingDir = service.workingDir;
  if (service.user) options.User = service.user;
  if (service.healthcheck) options.Healthcheck = healthConfig(service.healthcheck);
  if (needsHostAlias(project)) host.ExtraHosts = [`${HOST_ALIAS}:host-gateway`];
  options.Labels![HERD_CONFIG_HASH] = replicaConfigHash(options);
  return options;
}

export interface OneOffInput extends CreateInput {
  /** Compose's `com.docker.compose.slug`: the run's full random id (the name has its start). */
  slug: string;
  /** `herd run` sets HERD_REPLICA to this (`run-<id>`) instead of a replica number. */
  replica: string;
  tty: boolean;
  /** --rm: the engine removes the container once it has exited. */
  autoRemove: boolean;
  /** -d: nobody attaches, so stdin is not kept open (a command reading it sees its end). */
  detach?: boolean;
  /** -p / --service-ports: ports the engine publishes for it (none otherwise). */
  publish?: PortSpec[];
}

/** `herd run`'s container, as `docker compose run` creates one: the replica's create body with
 * Compose's one-off labels (number -1, so no replica's adoption ever takes it), stdin attached
 * unless detached, no published port but those of -p / --service-ports (the balancer never sends
 * it traffic) and no network alias (the service's name keeps resolving to its replicas). */
export function oneOffCreateOptions(input: OneOffInput): ContainerCreateOptions {
  const base = containerCreateOptions(input);
  const { PortBindings: _ports, ...host } = base.HostConfig ?? {};
  const endpoints = Object.keys(base.NetworkingConfig?.EndpointsConfig ?? {});
  const { [HERD_CONFIG_HASH]: _hash, ...labels } = base.Labels ?? {};
  return {
    ...base,
    Labels: {
      ...labels,
      [COMPOSE_NUMBER]: '-1',
      [COMPOSE_ONEOFF]: 'True',
      [COMPOSE_SLUG]: input.slug,
      [HERD_REPLICA]: input.replica,
    },
    Tty: input.tty,
    OpenStdin: !input.detach,
    StdinOnce: !input.detach,
    AttachStdin: !input.detach,
    AttachStdout: !input.detach,
    AttachStderr: !input.detach,
    ...(input.publish?.length ? { ExposedPorts: exposedWith(base, input.publish) } : {}),
    HostConfig: {
      ...host,
      AutoRemove: input.autoRemove,
      ...(input.publish?.length ? { PortBindings: portBindings(input.publish) } : {}),
    },
    NetworkingConfig: { EndpointsConfig: Object.fromEntries(endpoints.map((n) => [n, {}])) },
  };
}

function exposedWith(base: ContainerCreateOptions, ports: PortSpec[]): Record<string, object> {
  const keys = ports.map((p) => `${p.target}/${p.protocol}`);
  return { ...base.ExposedPorts, ...Object.fromEntries(keys.map((k) => [k, {}])) };
}

/** Docker's PortBindings for `ports` as `docker run -p` makes them: no host port is an ephemeral
 * one, a range stays a range. */
function portBindings(ports: PortSpec[]): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of ports) {
    const r = p.published;
    const hostPort = !r ? '' : r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
    (out[`${p.target}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: hostPort });
  }
  return out;
}

function hostPortFor(spec: ReplicaSpec, key: string): string {
  const [target, proto] = key.split('/');
  const port = proto === 'tcp' ? spec.hostPorts?.[Number(target)] : undefined;
  return port !== undefined ? String(port) : '';
}

/** Hash of a create body without what differs between two containers of the same replica —
 * host ports (new on every plan), the container name and its alias (a start-first rollout runs
 * the successor as `<name>-next`) — and without the hash label itself: equal hashes mean "this
 * container is what herd would create now for this replica". */
export function replicaConfigHash(options: ContainerCreateOptions): string {
  const { [HERD_CONFIG_HASH]: _self, ...labels } = options.Labels ?? {};
  const { PortBindings: _ports, ...hostConfig } = options.HostConfig ?? {};
  const { name: _name, NetworkingConfig: _net, ...rest } = options;
  const networks = Object.keys(options.NetworkingConfig?.EndpointsConfig ?? {});
  const stable = { ...rest, Labels: labels, HostConfig: hostConfig, networks };
  return createHash('sha256').update(JSON.stringify(stable)).digest('hex');
}
