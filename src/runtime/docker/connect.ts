// Finds the Docker engine herd talks to (DOCKER_HOST, else /var/run/docker.sock) and turns
// "nobody answered" into an error that says which service needed it and how to point herd at one.
import Dockerode from 'dockerode';
import { HerdError } from '../../util/errors.ts';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export type EngineAddress =
  { kind: 'unix'; socketPath: string } | { kind: 'tcp'; host: string; port: number };

/** Reads DOCKER_HOST the way the docker CLI does (unix:// or tcp://), defaulting to the local socket. */
export function resolveEngineAddress(
  env: Record<string, string | undefined> = process.env,
): EngineAddress {
  const raw = env.DOCKER_HOST?.trim();
  if (!raw) return { kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET };
  if (raw.startsWith('unix://')) {
    return { kind: 'unix', socketPath: raw.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  }
  if (raw.startsWith('tcp://')) {
    if (env.DOCKER_TLS_VERIFY) {
      throw new HerdError(
        `DOCKER_HOST=${raw} with DOCKER_TLS_VERIFY: herd does not speak TLS to the Docker engine yet; ` +
          'use a unix socket (DOCKER_HOST=unix:///var/run/docker.sock) or an SSH tunnel to a local port',
      );
    }
    let url: URL;
    try {
      url = new URL(raw.replace(/^tcp:/, 'http:'));
    } catch {
      throw new HerdError(
        `DOCKER_HOST=${raw} is not a valid address; expected tcp://HOST:PORT or unix:///PATH`,
      );
    }
    return { kind: 'tcp', host: url.hostname, port: Number(url.port || 2375) };
  }
  throw new HerdError(
    `DOCKER_HOST=${raw} is not supported; expected unix:///path/to/docker.sock or tcp://127.0.0.1:PORT`,
  );
}

export function describeEngineAddress(addr: EngineAddress): string {
  return addr.kind === 'unix' ? `unix://${addr.socketPath}` : `tcp://${addr.host}:${addr.port}`;
}

export function dockerClient(addr: EngineAddress): Dockerode {
  return addr.kind === 'unix'
    ? new Dockerode({ socketPath: addr.socketPath })
    : new Dockerode({ host: addr.host, port: addr.port, protocol: 'http' });
}

/** True for errors meaning "no engine at that address" rather than "the engine said no". */
export function isEngineUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ENOENT' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EACCES' ||
    code === 'ENOTSOCK' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT' ||
    code === 'EHOSTUNREACH'
  );
}

export function engineUnreachableError(
  address: string,
  cause: unknown,
  neededBy?: { service: string; what: string },
): HerdError {
  const why = cause instanceof Error ? cause.message : String(cause);
  const who = neededBy
    ? `service "${neededBy.service}" (${neededBy.what}) needs a Docker engine, but `
    : '';
  return new HerdError(
    `${who}no Docker engine answered at ${address} (${why}). ` +
      `Start Docker, or point herd at a running engine with DOCKER_HOST=unix:///path/to/docker.sock ` +
      `(default ${DEFAULT_DOCKER_SOCKET}) or DOCKER_HOST=tcp://127.0.0.1:PORT.`,
  );
}

/** Connects and pings the engine; a missing engine becomes a HerdError naming who needed it. */
export async function connectDocker(
  opts: {
    env?: Record<string, string | undefined>;
    neededBy?: { service: string; what: string };
    timeoutMs?: number;
  } = {},
): Promise<{ docker: Dockerode; address: string }> {
  const addr = resolveEngineAddress(opts.env);
  const address = describeEngineAddress(addr);
  const docker = dockerClient(addr);
  try {
    await pingWithin(docker, opts.timeoutMs ?? 5000);
  } catch (err) {
    throw engineUnreachableError(address, err, opts.neededBy);
  }
  return { docker, address };
}

export async function pingWithin(docker: Dockerode, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
  });
  try {
    await Promise.race([docker.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
