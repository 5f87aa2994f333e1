// Whether a replica accepts TCP connections yet: how the engine knows that a replica without a
// healthcheck can take traffic (running is not listening: a process needs a moment to bind its
// port).
import { connect } from 'node:net';
import type { Service } from '../compose/model.ts';
import { targetPorts } from '../runtime/env.ts';
import type { Clock } from '../util/clock.ts';
import type { ReplicaInfo } from './events.ts';

const ATTEMPT_MS = 1000;
const POLL_MS = 50;
/** The pause while a replica is young: most apps bind within a second or two of starting, and
 * each pause there is time a request held for it (a service woken from zero) waits for nothing. */
const FAST_POLL_MS = 10;

/** What a connect attempt found: a listener, a host that refused (reachable, nothing listens
 * yet), or no answer at all (unreachable, filtered, timed out). */
export type ConnectOutcome = 'open' | 'refused' | 'unreachable';

export function connectOutcome(host: string, port: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: ConnectOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(ATTEMPT_MS, () => done('unreachable'));
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : 'unreachable'),
    );
  });
}

export async function acceptsConnections(host: string, port: number): Promise<boolean> {
  return (await connectOutcome(host, port)) === 'open';
}

type HostPort = { host: string; port: number };

/** Where readiness is probed: the host port the balancer uses, and, when the runtime knows it,
 * the app's own address behind it (`inner`). */
export interface ListenTarget extends HostPort {
  inner?: HostPort;
}

/** Where a replica of a service that takes traffic (ports/expose) must accept connections before
 * it is ready: the host port of its first target port (its $PORT; for a container, the port
 * published on the host), plus the app's own address where the runtime gives one (`innerPorts`:
 * docker-proxy accepts on the host port before the container's app listens). Undefined for a
 * service that serves no port (a worker). */
export function listenTarget(
  service: Service,
  info: Pick<ReplicaInfo, 'host' | 'port' | 'ports'>,
  innerPorts?: Record<number, HostPort>,
): ListenTarget | undefined {
  const first = targetPorts(service)[0];
  if (first === undefined) return undefined;
  const port = info.ports[first] ?? info.port;
  if (port === undefined) return undefined;
  const inner = innerPorts?.[first];
  return inner ? { host: info.host, port, inner } : { host: info.host, port };
}

/** Polls until `port` accepts a connection, `gone()` says to give up, or the time is over. The
 * pause between attempts is 10 ms for the first `fastForMs` (default 0), then doubles from 50 ms
 * up to `maxPollMs` (default: stays at 50 ms). */
export async function waitListening(opts: {
  host: string;
  port: number;
  /** Replaces the plain connect to host:port (see innerFirst). */
  probe?: () => Promise<boolean>;
  timeoutMs: number;
  clock: Clock;
  gone: () => boolean;
  maxPollMs?: number;
  fastForMs?: number;
}): Promise<boolean> {
  const start = opts.clock.now();
  const end = start + opts.timeoutMs;
  let pause = POLL_MS;
  for (;;) {
    if (opts.gone()) return false;
    const open = opts.probe ? await opts.probe() : await acceptsConnections(opts.host, opts.port);
    if (open) return true;
    if (opts.gone() || opts.clock.now() >= end) return false;
    if (opts.clock.now() - start < (opts.fastForMs ?? 0)) {
      await new Promise<void>((resolve) => opts.clock.setTimeout(resolve, FAST_POLL_MS));
      continue;
    }
    await new Promise<void>((resolve) => opts.clock.setTimeout(resolve, pause));
    pause = Math.min(pause * 2, Math.max(POLL_MS, opts.maxPollMs ?? POLL_MS));
  }
}

/** Resolves true once the replica accepts connections at `host:port`, false once `gone()`. */
export type ListenWatchFactory = (args: {
  host: string;
  port: number;
  inner?: HostPort;
  clock: Clock;
  gone: () => boolean;
}) => Promise<boolean>;

/** Poll interval cap while waiting for a replica to listen, however long that takes. */
const LISTEN_POLL_MAX_MS = 250;
/** How long a starting replica is polled every 10 ms (a refused loopback connect costs ~0.1 ms). */
const LISTEN_FAST_MS = 2000;

/** Real sockets: polls the port until it accepts a connection, with no deadline. */
export const tcpListenWatch: ListenWatchFactory = (args) =>
  waitListening({
    ...args,
    probe: args.inner ? innerFirst(args.inner, args) : undefined,
    timeoutMs: Infinity,
    maxPollMs: LISTEN_POLL_MAX_MS,
    fastForMs: LISTEN_FAST_MS,
  });

/** Probes the app's own address while it answers at all (open, or refused: nothing listens yet);
 * once it does not (no route from the host to the container's network: rootless or remote
 * engines), falls back to the host port for good. */
function innerFirst(inner: HostPort, outer: HostPort): () => Promise<boolean> {
  let reachable = true;
  return async () => {
    if (reachable) {
      const outcome = await connectOutcome(inner.host, inner.port);
      if (outcome !== 'unreachable') return outcome === 'open';
      reachable = false;
    }
    return acceptsConnections(outer.host, outer.port);
  };
}
