// Which runtime runs which service (compose/runtime-kind.ts decides from the compose file): containers
// for services with `image`/`build` (or `x-herd.runtime: docker`), local processes for the rest.
// Both can live in one project. The Docker engine is found through DOCKER_HOST, else
// /var/run/docker.sock, and is only asked for when some service needs it; its images are built
// or pulled here, before any replica of any service starts.
import type { Project, Service } from '../compose/model.ts';
import type { Runtime } from './types.ts';
import { withGivenFiles } from './process/given-files.ts';
import { processRuntime, ProcessRuntime } from './process/process-runtime.ts';
import type { AdoptionPool } from './process/adoption.ts';
import { connectDocker } from './docker/connect.ts';
import { DockerRuntime } from './docker/runtime.ts';
import { runtimeKind } from '../compose/runtime-kind.ts';
import { HerdError } from '../util/errors.ts';

export interface Runtimes {
  /** The runtime for one service (throws a HerdError when it cannot be had). */
  forService(service: Service): Runtime;
  /** `herd down`: remove what the runtimes created for the project (containers, networks, and
   * named volumes only when `volumes` is set). */
  down(opts: { volumes: boolean }): Promise<void>;
  /** A re-applied compose file (`herd up` against a running daemon): the Docker runtime follows
   * it and has the images of its Docker services ready. Throws, changing nothing, when the file
   * now needs Docker and this stack started without it. */
  apply(next: Project): Promise<void>;
  close(): Promise<void>;
  /** The Docker runtime, when some service runs in Docker (listing and adopting containers). */
  readonly docker?: DockerRuntime;
}

export interface RuntimesOptions {
  /** Image build and pull progress, per service. */
  onProgress?: (service: string, line: string) => void;
  /** Rebuild images of services with `build:` even when they exist (`up --build`). */
  build?: boolean;
  /** Where DOCKER_HOST is read from (default: herd's environment). */
  env?: Record<string, string | undefined>;
  /** Build/pull the images now (default true); `herd down` only needs to remove things. */
  prepare?: boolean;
  /** Where process replicas get their secrets and configs as files (the daemon's state dir). */
  filesDir?: string;
  /** Where process replicas write their output (files that outlive the daemon; the daemon's
   * state dir); default: pipes to this process. */
  outputDir?: string;
  /** What a daemon that died left running, for the process runtime to adopt. */
  adoption?: AdoptionPool;
  /** Process replicas boot at a low priority until ready (the daemon, which sees readiness). */
  bootPriority?: boolean;
}

export function dockerServices(project: Project): Service[] {
  return Object.values(project.services).filter((s) => runtimeKind(s) === 'docker');
}

export async function createRuntimes(
  project: Project,
  opts: RuntimesOptions = {},
): Promise<Runtimes> {
  const inDocker = dockerServices(project);
  let current = project;
  const inner =
    opts.outputDir !== undefined || opts.bootPriority
      ? new ProcessRuntime({
          outputDir: opts.outputDir,
          adoption: opts.adoption,
          bootPriority: opts.bootPriority,
        })
      : processRuntime;
  const processes = withGivenFiles(inner, () => current, opts.filesDir);
  if (inDocker.length === 0) {
    return {
      forService: () => processes,
      async down() {},
      async apply(next) {
        const [first] = dockerServices(next);
        if (first)
          throw new HerdError(
            `service "${first.name}" needs Docker, and this stack was started without it; ` +
              'run `herd down`, then `herd up` to start the stack with the Docker engine',
          );
        current = next;
      },
      async close() {},
    };
  }
  for (const s of inDocker) {
    if (s.image === undefined && s.build === undefined) {
      throw new HerdError(
        `service "${s.name}" has x-herd: {runtime: docker} but no image to run: ` +
          'add `image:` (e.g. image: node:20-alpine) or `build:` (a folder with a Dockerfile)',
      );
    }
  }
  const [first, ...others] = inDocker as [Service, ...Service[]];
  const what = first.image ? `image ${first.image}` : first.build ? 'build' : 'x-herd.runtime';
  const also = others.length > 0 ? `; also needed by ${others.map((s) => s.name).join(', ')}` : '';
  // Fails before anything starts, naming the service and how to point herd at an engine.
  const { docker, address } = await connectDocker({
    env: opts.env,
    neededBy: { service: first.name, what: `${what}${also}` },
  });
  const runtime = new DockerRuntime({
    docker,
    project,
    engineAddress: address,
    onProgress: opts.onProgress,
  });
  try {
    if (opts.prepare !== false)
      await runtime.prepare(
        inDocker.map((s) => s.name),
        { build: opts.build ?? false },
      );
  } catch (err) {
    runtime.close();
    throw err;
  }
  return {
    docker: runtime,
    forService: (service) => (runtimeKind(service) === 'docker' ? runtime : processes),
    async down({ volumes }) {
      await runtime.removeProject({ volumes });
    },
    async apply(next) {
      current = next;
      runtime.setProject(next);
      await runtime.prepare(dockerServices(next).map((s) => s.name));
    },
    async close() {
      runtime.close();
    },
  };
}
