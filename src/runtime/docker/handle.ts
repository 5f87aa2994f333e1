// A running container seen through the ReplicaHandle contract: output lines, exit, stop, kill,
// and the engine's health status.
import type Dockerode from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';
import type { ExitInfo, OutputStream, ReplicaHandle } from '../types.ts';
import type { DockerHealthStatus, HealthFeed } from './health-feed.ts';
import { LineSplitter } from './lines.ts';
import { engineMessage } from './build.ts';

type OutputListener = (stream: OutputStream, line: string) => void;
type HostPort = { host: string; port: number };

/** Lines kept for a listener that subscribes after output started; older ones are dropped. */
const MAX_BUFFERED_LINES = 1000;
/** How long `exited` waits for the last output after the container stopped. */
const OUTPUT_DRAIN_MS = 1000;
/** A failed wait request is retried while the container runs: this many times in a row (about
 * half a minute with the backoff below, enough for the engine to restart) before herd gives up. */
const WAIT_RETRIES = 10;
const WAIT_RETRY_FIRST_MS = 250;
const WAIT_RETRY_MAX_MS = 4000;
/** A wait that was answered or held this long before failing was healthy: the count restarts. */
const WAIT_STABLE_MS = 10_000;

export interface WaitRetryPolicy {
  retries: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export interface DockerHandleInit {
  docker: Dockerode;
  container: Dockerode.Container;
  id: string;
  pid?: number;
  /** `<port>/<proto>` → where it is published on the host. */
  ports: Record<string, HostPort>;
  address?: HostPort;
  /** The container's own address on its network (readiness probes go there, see ReplicaHandle). */
  ip?: string;
  /** The attach stream, opened before start so no output is lost. */
  output: Readable;
  stopGracePeriodMs: number;
  health: HealthFeed;
  /** How a failed wait request is retried (tests shorten it). */
  waitRetry?: WaitRetryPolicy;
}

export class DockerReplicaHandle implements ReplicaHandle {
  readonly id: string;
  readonly pid?: number;
  readonly address?: HostPort;
  readonly ports: Record<string, HostPort>;
  /** TCP target port → its 127.0.0.1 host port (what the balancer forwards to). */
  readonly hostPorts: Record<number, number>;
  readonly innerPorts: Record<number, HostPort>;
  readonly exited: Promise<ExitInfo>;
  private readonly container: Dockerode.Container;
  private readonly listeners: OutputListener[] = [];
  private buffered: Array<[OutputStream, string]> | undefined = [];
  private lastHealth: DockerHealthStatus | undefined;
  /** Set by stop(): `exited` resolves only once the container is gone, so whoever waits for the
   * exit (the engine, before it reports a replica removed) never sees it linger. */
  private removeOnExit = false;

  constructor(private readonly init: DockerHandleInit) {
    this.id = init.id;
    this.pid = init.pid;
    this.address = init.address;
    this.ports = init.ports;
    this.hostPorts = {};
    this.innerPorts = {};
    for (const [key, at] of Object.entries(init.ports)) {
      const [target, proto] = key.split('/');
      if (proto !== 'tcp') continue;
      this.hostPorts[Number(target)] = at.port;
      if (init.ip) this.innerPorts[Number(target)] = { host: init.ip, port: Number(target) };
    }
    this.container = init.container;
    const outputDone = this.followOutput(init.output);
    this.exited = this.waitForExit(outputDone);
  }

  onOutput(listener: OutputListener): void {
    this.listeners.push(listener);
    const backlog = this.buffered;
    this.buffered = undefined;
    for (const [stream, line] of backlog ?? []) listener(stream, line);
  }

  /** Engine health status changes (only for containers with a healthcheck), current status first. */
  onHealth(listener: (status: DockerHealthStatus) => void): void {
    const deliver = (status: DockerHealthStatus) => {
      if (status === this.lastHealth) return;
      this.lastHealth = status;
      listener(status);
    };
    void this.init.health
      .subscribe(this.id, deliver)
      .then(async () => {
        const info = await this.container.inspect();
        const status = info.State.Health?.Status;
        if (status === 'starting' || status === 'healthy' || status === 'unhealthy')
          deliver(status);
      })
      .catch(() => {
        // The container is gone or the engine went away; `exited` reports that.
      });
    void this.exited.then(() => this.init.health.forget(this.id));
  }

  /** docker stop: the engine sends StopSignal, waits the grace period, then SIGKILL. The stopped
   * container is then removed, as Compose does on scale-down: herd never restarts a stopped
   * container (a new start creates a fresh one), and its output is in herd's log store. */
  async stop(graceMs?: number): Promise<ExitInfo> {
    // Set before the request: the engine's answer to `stop` and to the pending `wait` race, and
    // waitForExit must see the flag whichever comes first or the container would linger.
    this.removeOnExit = true;
    try {
      const grace = graceMs ?? this.init.stopGracePeriodMs;
      await this.container.stop({ t: Math.ceil(grace / 1000) });
    } catch (err) {
      // 304: already stopped; 404: already gone. Either way `exited` settles.
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 304 && code !== 404) throw err;
    }
    return this.exited;
  }

  kill(signal: NodeJS.Signals): void {
    this.container.kill({ signal }).catch(() => {
      // Not running any more: nothing to signal.
    });
  }

  /** The engine's pause (the cgroup freezer) and unpause. */
  async pause(): Promise<void> {
    await this.container.pause();
  }

  async resume(): Promise<void> {
    await this.container.unpause();
  }

  /** Removes the stopped container (Compose removes containers on scale-down and `down`). */
  async remove(): Promise<void> {
    await this.container.remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }

  private emit(stream: OutputStream, line: string): void {
    if (this.buffered) {
      this.buffered.push([stream, line]);
      if (this.buffered.length > MAX_BUFFERED_LINES) this.buffered.shift();
      return;
    }
    for (const listener of this.listeners) listener(stream, line);
  }

  private followOutput(raw: Readable): Promise<void> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const outLines = new LineSplitter((line) => this.emit('stdout', line));
    const errLines = new LineSplitter((line) => this.emit('stderr', line));
    stdout.on('data', (c: Buffer) => outLines.write(c));
    stderr.on('data', (c: Buffer) => errLines.write(c));
    // Without a TTY the engine multiplexes both streams into frames with an 8-byte header.
    this.init.docker.modem.demuxStream(raw, stdout, stderr);
    return new Promise((resolve) => {
      const done = () => {
        outLines.end();
        errLines.end();
        resolve();
      };
      raw.once('end', done);
      raw.once('close', done);
      raw.once('error', done);
    });
  }

  private async waitForExit(outputDone: Promise<void>): Promise<ExitInfo> {
    const waitError = await this.waitUntilNotRunning();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([outputDone, new Promise((r) => (timer = setTimeout(r, OUTPUT_DRAIN_MS)))]);
    clearTimeout(timer);
    let lastError = waitError;
    try {
      const state = (await this.container.inspect()).State;
      if (!state.Running) {
        if (this.removeOnExit) {
          await this.remove().catch(() => {
            // The engine went away meanwhile: `herd down` removes what is left.
          });
        }
        return state.OOMKilled
          ? { exitCode: state.ExitCode, oomKilled: true }
          : { exitCode: state.ExitCode };
      }
    } catch (err) {
      lastError ??= err;
    }
    return {
      exitCode: -1,
      startError: `lost track of container ${this.id.slice(0, 12)}: ${engineMessage(lastError)}`,
    };
  }

  /** Long-polls the engine until the container is not running. A failed request (the connection
   * dropped, the engine restarting) is not an exit: while inspect says the container still runs
   * the wait is made again, with a backoff; after `retries` failures in a row (the engine cannot
   * be reached) or once the container is gone, the last error is returned. */
  private async waitUntilNotRunning(): Promise<unknown> {
    const policy = this.init.waitRetry ?? {
      retries: WAIT_RETRIES,
      firstDelayMs: WAIT_RETRY_FIRST_MS,
      maxDelayMs: WAIT_RETRY_MAX_MS,
    };
    let failures = 0;
    for (;;) {
      const askedAt = Date.now();
      let error: unknown;
      try {
        await waitRequest(this.init.docker, this.id);
        return undefined;
      } catch (err) {
        error = err;
      }
      if ((error as { statusCode?: number }).statusCode === 404) return error;
      failures = Date.now() - askedAt >= WAIT_STABLE_MS ? 1 : failures + 1;
      try {
        const state = (await this.container.inspect()).State;
        // It stopped while nobody was waiting: report its exit as usual.
        if (!state.Running) return undefined;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return err;
        error = err;
      }
      if (failures > policy.retries) return error;
      const delay = Math.min(policy.firstDelayMs * 2 ** (failures - 1), policy.maxDelayMs);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** POST /containers/{id}/wait, answered when the container is not running. dockerode's
 * container.wait() never settles when the connection drops after the engine sent the headers
 * (which it does at once), so the body is read here and a broken connection is an error. */
function waitRequest(docker: Dockerode, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/containers/${id}/wait?`,
        method: 'POST',
        isStream: true,
        statusCodes: {
          200: true,
          400: 'bad parameter',
          404: 'no such container',
          500: 'server error',
        },
        options: {},
      },
      (err, res) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const body = res as Readable;
        let ended = false;
        body.on('data', () => {});
        body.once('end', () => {
          ended = true;
          resolve();
        });
        body.once('error', (e: Error) => {
          if (!ended) reject(connectionLost(e));
        });
        body.once('close', () => {
          if (!ended) reject(connectionLost());
        });
      },
    );
  });
}

function connectionLost(cause?: Error): Error {
  return Object.assign(
    new Error(
      `the connection to the engine broke while waiting for the container${cause ? ` (${cause.message})` : ''}`,
    ),
    { code: 'ECONNRESET' },
  );
}
