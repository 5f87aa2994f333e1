// `herd exec` into a container: the Docker engine's exec, attached to this terminal, as
// `docker exec` does it. Loaded only for Docker services (dockerode is slow to load).
import type { Duplex } from 'node:stream';
import { connectDocker } from '../runtime/docker/connect.ts';
import { HERD_PROJECT, HERD_REPLICA, HERD_SERVICE } from '../runtime/docker/labels.ts';
import { HerdError } from '../util/errors.ts';

export interface ReplicaRef {
  project: string;
  service: string;
  index: number;
}

export interface DockerExecOptions {
  tty: boolean;
  env: Record<string, string>;
  workdir?: string;
  user?: string;
}

/** Runs `argv` in the replica's container; resolves with its exit code. */
export async function dockerExec(
  ref: ReplicaRef,
  argv: string[],
  opts: DockerExecOptions,
): Promise<number> {
  const { docker } = await connectDocker({ neededBy: { service: ref.service, what: 'exec' } });
  const [found] = await docker.listContainers({
    filters: {
      label: [
        `${HERD_PROJECT}=${ref.project}`,
        `${HERD_SERVICE}=${ref.service}`,
        `${HERD_REPLICA}=${ref.index}`,
      ],
      status: ['running'],
    },
  });
  if (!found)
    throw new HerdError(
      `no running container for ${ref.project}-${ref.service}-${ref.index}`,
      'CONFLICT',
    );
  const tty = opts.tty && Boolean(process.stdin.isTTY);
  const exec = await docker.getContainer(found.Id).exec({
    Cmd: argv,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: tty,
    Env: Object.entries(opts.env).map(([k, v]) => `${k}=${v}`),
    ...(opts.workdir ? { WorkingDir: opts.workdir } : {}),
    ...(opts.user ? { User: opts.user } : {}),
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: tty })) as Duplex;
  if (tty) stream.pipe(process.stdout);
  else docker.modem.demuxStream(stream, process.stdout, process.stderr);
  if (tty) process.stdin.setRawMode(true);
  process.stdin.pipe(stream);
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', reject);
    });
  } finally {
    process.stdin.unpipe(stream);
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  const info = await exec.inspect();
  return info.ExitCode ?? 0;
}
