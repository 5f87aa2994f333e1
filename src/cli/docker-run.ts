// `herd run` of a Docker service: a one-off container, as `docker compose run` creates one, made
// by the Docker runtime (its networks, volumes, image and create body) and attached to this
// terminal as `docker run -i` attaches. Loaded only for Docker services (dockerode is slow to load).
import type Dockerode from 'dockerode';
import type { Duplex } from 'node:stream';
import type { PortSpec, Project, Service } from '../compose/model.ts';
import { engineMessage } from '../runtime/docker/build.ts';
import { connectDocker, isEngineUnreachable } from '../runtime/docker/connect.ts';
import { DockerRuntime } from '../runtime/docker/runtime.ts';
import { planReplica } from '../runtime/env.ts';
import { HerdError } from '../util/errors.ts';

export interface DockerRunOptions {
  /** The run's random id: the container is `<project>-<service>-run-<id>`. */
  id: string;
  /** Compose's slug label: the full random id `id` starts. */
  slug: string;
  tty: boolean;
  rm: boolean;
  env: Record<string, string>;
  /** --name: the container's name instead of `<project>-<service>-run-<id>`. */
  name?: string;
  /** -d: start it, print its name, and return without attaching. */
  detach: boolean;
  /** -p and --service-ports: published on the host by the engine, as `docker run -p` does. */
  publish: PortSpec[];
}

/** Creates, starts and attaches to the one-off container of `service` (its definition with the
 * run's overrides); resolves with its exit code once it has exited (and, with --rm, is gone).
 * Detached, resolves with 0 once it started, its name printed. */
export async function dockerRun(
  project: Project,
  service: Service,
  opts: DockerRunOptions,
): Promise<number> {
  const { docker, address } = await connectDocker({
    neededBy: { service: service.name, what: 'run' },
  });
  // Build and pull progress goes to stderr: stdout is the one-off's.
  const runtime = new DockerRuntime({
    docker,
    project,
    engineAddress: address,
    onProgress: (name, line) => process.stderr.write(`${name}: ${line}\n`),
  });
  try {
    const { spec } = await planReplica(project, service, 1, { container: true });
    spec.name = opts.name ?? `${project.name}-${service.name}-run-${opts.id}`;
    const replica = `run-${opts.id}`;
    spec.env = { ...spec.env, HERD_REPLICA: replica, ...opts.env };
    const tty = !opts.detach && opts.tty && Boolean(process.stdin.isTTY);
    const container = await runtime.createOneOff(service, {
      spec,
      slug: opts.slug,
      replica,
      tty,
      autoRemove: opts.rm,
      detach: opts.detach,
      publish: opts.publish,
    });
    if (opts.detach) {
      await startOrExplain(container, spec.name);
      process.stdout.write(`${spec.name}\n`);
      return 0;
    }
    return await attachAndRun(docker, container, spec.name, tty, opts.rm);
  } finally {
    runtime.close();
  }
}

/** Starts the one-off; one that cannot start is removed, and the error says what to check. */
async function startOrExplain(container: Dockerode.Container, name: string): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    if (isEngineUnreachable(err)) throw err;
    throw new HerdError(
      `could not start the one-off container ${name}: ${engineMessage(err)}; ` +
        'check the command and --entrypoint',
    );
  }
}

async function attachAndRun(
  docker: Dockerode,
  container: Dockerode.Container,
  name: string,
  tty: boolean,
  rm: boolean,
): Promise<number> {
  // Attached and waited on before the start, so no output and no exit is missed; with --rm the
  // wait ends once the engine has removed it, so nothing is left when herd returns.
  const stream = (await container.attach({
    stream: true,
    hijack: true,
    stdin: true,
    stdout: true,
    stderr: true,
  })) as unknown as Duplex;
  const exited = container.wait({ condition: rm ? 'removed' : 'next-exit' }) as Promise<{
    StatusCode: number;
  }>;
  const drained = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', reject);
  });
  // Awaited below; a failed start must not leave them rejecting unobserved.
  exited.catch(() => undefined);
  drained.catch(() => undefined);
  if (tty) stream.pipe(process.stdout);
  else docker.modem.demuxStream(stream, process.stdout, process.stderr);
  try {
    await startOrExplain(container, name);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  const forward = (signal: NodeJS.Signals) => {
    container.kill({ signal }).catch(() => undefined);
  };
  const resize = () => {
    container.resize({ h: process.stdout.rows, w: process.stdout.columns }).catch(() => undefined);
  };
  // Without a terminal, Ctrl-C reaches herd, not the container: passed on, as `docker run` does.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, forward);
  if (tty) {
    process.stdin.setRawMode(true);
    if (process.stdout.isTTY) {
      resize();
      process.stdout.on('resize', resize);
    }
  }
  process.stdin.pipe(stream);
  try {
    const [{ StatusCode }] = await Promise.all([exited, drained]);
    return StatusCode;
  } finally {
    for (const s of signals) process.off(s, forward);
    process.stdout.off('resize', resize);
    process.stdin.unpipe(stream);
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
}
