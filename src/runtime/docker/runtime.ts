// The Docker runtime: each replica is a container named `<project>-<service>-<n>`, labelled as
// Compose labels its own, on its networks (`<project>_default` unless `networks:` names others)
// with the service name as alias, and
// every container port published on 127.0.0.1 so herd's balancer can reach it from the host.
import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import type { Project, Service } from '../../compose/model.ts';
import { HerdError } from '../../util/errors.ts';
import type { ReplicaHandle, ReplicaSpec, Runtime } from '../types.ts';
import {
  buildImage,
  engineMessage,
  ensureImage,
  imageExists,
  type ProgressListener,
} from './build.ts';
import { engineUnreachableError, isEngineUnreachable } from './connect.ts';
import {
  builtImageName,
  containerCreateOptions,
  containerPorts,
  oneOffCreateOptions,
  type OneOffInput,
} from './create-options.ts';
import { DockerReplicaHandle } from './handle.ts';
import { HealthFeed } from './health-feed.ts';
import {
  COMPOSE_NUMBER,
  COMPOSE_SERVICE,
  HERD_CONFIG_HASH,
  HERD_PROJECT,
  HERD_SERVICE,
} from './labels.ts';
import { contentArchive } from './given-files.ts';
import { attachments, createAttached, ensureNetwork } from './networks.ts';
import {
  ensureNamedVolume,
  listProjectContainers,
  removeProjectResources,
  type ContainerSummary,
} from './project-resources.ts';

export interface DockerRuntimeOptions {
  docker: Dockerode;
  project: Project;
  /** How the engine was reached, for error messages (e.g. `unix:///var/run/docker.sock`). */
  engineAddress?: string;
  /** Build and pull progress lines, prefixed with the service name. */
  onProgress?: (service: string, line: string) => void;
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  private readonly docker: Dockerode;
  private project: Project;
  private readonly health: HealthFeed;
  private readonly networks = new Map<string, Promise<string>>();
  private readonly volumes = new Map<string, Promise<string>>();
  private readonly images = new Map<string, Promise<string>>();

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.docker = opts.docker;
    this.project = opts.project;
    this.health = new HealthFeed(this.docker, this.project.name);
  }

  /** A re-applied compose file: replicas started from now on follow it. The project name never
   * changes here (the engine refuses that). */
  setProject(next: Project): void {
    this.project = next;
    this.images.clear();
  }

  /** Builds or pulls the images of `services` (all Docker ones by default) before anything starts. */
  async prepare(services?: string[], opts: { build?: boolean } = {}): Promise<void> {
    const names = services ?? Object.keys(this.project.services);
    for (const name of names) {
      const service = this.service(name);
      if (!service.image && !service.build) continue;
      await this.guard(service, () => this.image(service, opts.build ?? false));
    }
  }

  async start(spec: ReplicaSpec): Promise<ReplicaHandle> {
    const service = this.service(spec.service);
    return this.guard(service, async () => {
      await this.sharedResources(service);
      let image: string;
      try {
        image = await this.image(service, false);
      } catch (err) {
        if (!(err instanceof HerdError)) throw err;
        return failedHandle(err.message);
      }
      const create = containerCreateOptions({ project: this.project, service, spec, image });
      await this.clearStaleContainer(spec);
      let container: Dockerode.Container;
      try {
        container = await createAttached(this.docker, create);
        // Secrets and configs whose text is not a host file are copied in before the start.
        const archive = contentArchive(this.project, service);
        if (archive) await container.putArchive(archive, { path: '/' });
      } catch (err) {
        if (isEngineUnreachable(err)) throw err;
        return failedHandle(`could not create container ${spec.name}: ${engineMessage(err)}`);
      }
      // Attach before start so the first lines of output are not lost.
      const output = (await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
      })) as unknown as Readable;
      try {
        await container.start();
      } catch (err) {
        output.destroy();
        if (isEngineUnreachable(err)) throw err;
        return failedHandle(`could not start container ${spec.name}: ${engineMessage(err)}`);
      }
      return this.handleFor(service, spec, container, output);
    });
  }

  /** `herd run`'s container, created (not started) as a replica's would be: networks and volumes
   * made, the image built when it has `build:` and is missing (as `up` builds it) or pulled.
   * `service` is the one-off's definition (its command and entrypoint overridden). */
  async createOneOff(
    service: Service,
    run: Omit<OneOffInput, 'project' | 'service' | 'image'>,
  ): Promise<Dockerode.Container> {
    return this.guard(service, async () => {
      await this.sharedResources(service);
      const image = await this.image(service, false);
      const create = oneOffCreateOptions({ ...run, project: this.project, service, image });
      const container = await createAttached(this.docker, create).catch((err: unknown) => {
        if (isEngineUnreachable(err)) throw err;
        throw new HerdError(`could not create container ${run.spec.name}: ${engineMessage(err)}`);
      });
      const archive = contentArchive(this.project, service);
      if (archive) await container.putArchive(archive, { path: '/' });
      return container;
    });
  }

  /** `herd rm`: the exited container goes, as `docker compose rm` removes it. Only a stopped one:
   * herd never removes a running container here. */
  async remove(spec: ReplicaSpec, opts: { volumes: boolean }): Promise<void> {
    const container = this.docker.getContainer(spec.name);
    await container.remove({ v: opts.volumes }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  /** A running container of this replica left by an earlier herd (a daemon restart), taken over
   * as is when it was created from the same definition and image; anything else found under the
   * replica's labels is removed, and undefined means "start a new one". */
  async adopt(spec: ReplicaSpec): Promise<ReplicaHandle | undefined> {
    const service = this.service(spec.service);
    return this.guard(service, async () => {
      const found = await this.docker.listContainers({
        all: true,
        filters: {
          label: [
            `${HERD_PROJECT}=${this.project.name}`,
            `${COMPOSE_SERVICE}=${service.name}`,
            `${COMPOSE_NUMBER}=${spec.index}`,
          ],
        },
      });
      if (found.length === 0) return undefined;
      const image = await this.image(service, false);
      const imageId = (await this.docker.getImage(image).inspect()).Id;
      const wanted = containerCreateOptions({ project: this.project, service, spec, image });
      let keep: Dockerode.Container | undefined;
      // The one named like the replica first; a rollout's `-next` successor is as good.
      found.sort(
        (a, b) =>
          Number(b.Names.includes(`/${spec.name}`)) - Number(a.Names.includes(`/${spec.name}`)),
      );
      for (const c of found) {
        const container = this.docker.getContainer(c.Id);
        const matches =
          keep === undefined &&
          c.State === 'running' &&
          c.ImageID === imageId &&
          c.Labels[HERD_CONFIG_HASH] === wanted.Labels?.[HERD_CONFIG_HASH];
        if (matches) keep = container;
        else await removeQuietly(container);
      }
      if (!keep) return undefined;
      // Output from now on: what it printed before is in the log store of the herd that ran it.
      const output = (await keep.attach({
        stream: true,
        stdout: true,
        stderr: true,
      })) as unknown as Readable;
      return this.handleFor(service, spec, keep, output);
    });
  }

  listContainers(): Promise<ContainerSummary[]> {
    return listProjectContainers(this.docker, this.project.name);
  }

  removeProject(
    opts: { volumes?: boolean } = {},
  ): Promise<{ containers: number; networks: number; volumes: number }> {
    this.networks.clear();
    this.volumes.clear();
    return removeProjectResources(this.docker, this.project.name, opts);
  }

  /** Stops following engine events; containers keep running. */
  close(): void {
    this.health.close();
  }

  private async handleFor(
    service: Service,
    spec: ReplicaSpec,
    container: Dockerode.Container,
    output: Readable,
  ): Promise<DockerReplicaHandle> {
    const info = await container.inspect();
    const ports = publishedPorts(info);
    const main = spec.port !== undefined ? `${spec.port}/tcp` : containerPorts(service, spec)[0];
    return new DockerReplicaHandle({
      docker: this.docker,
      container,
      id: info.Id,
      pid: info.State.Pid || undefined,
      ports,
      address: main ? ports[main] : undefined,
      ip: containerIp(info),
      output,
      stopGracePeriodMs: spec.stopGracePeriodMs,
      health: this.health,
    });
  }

  private service(name: string): Service {
    const service = this.project.services[name];
    if (!service) throw new HerdError(`no service "${name}" in project ${this.project.name}`);
    return service;
  }

  /** Turns "no engine answered" into a HerdError naming the service that needed one. */
  private async guard<T>(service: Service, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isEngineUnreachable(err)) {
        const what = service.image ? `image ${service.image}` : 'build';
        throw engineUnreachableError(this.opts.engineAddress ?? clientAddress(this.docker), err, {
          service: service.name,
          what,
        });
      }
      throw err;
    }
  }

  private sharedResources(service: Service): Promise<unknown> {
    const networks = attachments(this.project, service).map(({ key, def }) => {
      let pending = this.networks.get(def.name);
      if (!pending) {
        pending = ensureNetwork(this.docker, this.project.name, key, def).catch((err: unknown) => {
          this.networks.delete(def.name);
          throw err;
        });
        this.networks.set(def.name, pending);
      }
      return pending;
    });
    const volumes = service.volumes
      .filter((v) => v.type === 'volume' && v.source)
      .map((v) => {
        const key = v.source!;
        let pending = this.volumes.get(key);
        if (!pending) {
          pending = ensureNamedVolume(this.docker, this.project, key).catch((err: unknown) => {
            this.volumes.delete(key);
            throw err;
          });
          this.volumes.set(key, pending);
        }
        return pending;
      });
    return Promise.all([...networks, ...volumes]);
  }

  /** The service's image, built (when it has `build:` and is missing or `rebuild`) or pulled. */
  private image(service: Service, rebuild: boolean): Promise<string> {
    const cached = this.images.get(service.name);
    if (cached && !rebuild) return cached;
    const progress: ProgressListener = (line) => this.opts.onProgress?.(service.name, line);
    const name = builtImageName(this.project.name, service);
    const work = (async () => {
      if (service.build && (rebuild || !(await imageExists(this.docker, name)))) {
        await buildImage(this.docker, {
          context: service.build.context,
          dockerfile: service.build.dockerfile,
          args: service.build.args,
          target: service.build.target,
          tag: name,
          labels: { [HERD_PROJECT]: this.project.name, [HERD_SERVICE]: service.name },
          onProgress: progress,
        });
      } else {
        await ensureImage(this.docker, name, progress);
      }
      return name;
    })();
    this.images.set(
      service.name,
      work.catch((err: unknown) => {
        this.images.delete(service.name);
        throw err;
      }),
    );
    return this.images.get(service.name)!;
  }

  /** A container left with this replica's name by an earlier run of the project is replaced. */
  private async clearStaleContainer(spec: ReplicaSpec): Promise<void> {
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(spec.name).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw err;
    }
    if (info.Config.Labels?.[HERD_PROJECT] !== this.project.name) {
      throw new HerdError(
        `a container named ${spec.name} already exists and was not created by herd for project ` +
          `${this.project.name}; remove or rename it (docker rm ${spec.name}) or use another project name (-p)`,
      );
    }
    await this.docker.getContainer(info.Id).remove({ force: true });
  }
}

function clientAddress(docker: Dockerode): string {
  const modem = docker.modem as { socketPath?: string; host?: string; port?: number };
  return modem.socketPath ? `unix://${modem.socketPath}` : `tcp://${modem.host}:${modem.port}`;
}

/** The container's address on its first network that gives it one (none with network_mode host). */
function containerIp(info: Dockerode.ContainerInspectInfo): string | undefined {
  const networks = Object.values(info.NetworkSettings.Networks ?? {});
  return networks.find((n) => n.IPAddress)?.IPAddress || undefined;
}

/** `<port>/<proto>` → the 127.0.0.1 port the engine picked for it. */
function publishedPorts(
  info: Dockerode.ContainerInspectInfo,
): Record<string, { host: string; port: number }> {
  const ports: Record<string, { host: string; port: number }> = {};
  for (const [key, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
    const binding = bindings?.find((b) => b.HostIp === '127.0.0.1') ?? bindings?.[0];
    if (binding?.HostPort)
      ports[key] = { host: binding.HostIp || '127.0.0.1', port: Number(binding.HostPort) };
  }
  return ports;
}

async function removeQuietly(container: Dockerode.Container): Promise<void> {
  await container.remove({ force: true }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
  });
}

/** A replica that never ran: `exited` already carries the reason, like the process runtime's. */
function failedHandle(reason: string): ReplicaHandle {
  const exit = { exitCode: -1, startError: reason };
  return {
    id: '',
    exited: Promise.resolve(exit),
    onOutput: () => {},
    stop: () => Promise.resolve(exit),
    kill: () => {},
  };
}
