// The one interface every runtime driver (process, docker) implements for the engine.

export interface ReplicaSpec {
  project: string;
  service: string;
  /** 1-based replica number. */
  index: number;
  /** `<project>-<service>-<index>`. */
  name: string;
  /** argv to run (process runtime: argv[0] is looked up on PATH). */
  command: string[];
  /** Full environment of the replica (service env + PORT, HERD_*, *_SERVICE_HOST/PORT). */
  env: Record<string, string>;
  /** Absolute working directory. */
  cwd: string;
  /** The port the replica is told to listen on (also in env.PORT), if any. */
  port?: number;
  /** Target port → the 127.0.0.1 host port that should reach it (Docker publishes them there). */
  hostPorts?: Record<number, number>;
  stopSignal: NodeJS.Signals;
  stopGracePeriodMs: number;
  /** Hard memory limit (`mem_limit`, `deploy.resources.limits.memory`). */
  memoryLimitBytes?: number;
  /** Memory + swap (`memswap_limit`); -1: unlimited swap; undefined: as much swap as memory. */
  memswapLimitBytes?: number;
  /** Soft limit (`mem_reservation`, `deploy.resources.reservations.memory`). */
  memoryReservationBytes?: number;
  /** CPU quota in CPUs (`cpus`, `deploy.resources.limits.cpus`). */
  cpus?: number;
  /** Relative CPU weight (`cpu_shares`; 1024 is everyone's default). */
  cpuShares?: number;
  /** Most processes and threads at once (`pids_limit`, `deploy.resources.limits.pids`). */
  pidsLimit?: number;
  /** Run as this user (process runtime: resolved from `user:`; Docker passes `user` as is). */
  user?: string;
  uid?: number;
  gid?: number;
  /** Hash of the service definition the replica runs (engine/service-hash.ts): a replica left
   * running by a daemon that died is adopted only while it still matches. */
  definition?: string;
}

export interface ExitInfo {
  /** Exit code as Docker reports it: the code, or 128 + signal number when killed by a signal. */
  exitCode: number;
  /** The signal that ended it, if any. */
  signal?: NodeJS.Signals;
  /** Set when the replica never ran (command not found, not executable, …). */
  startError?: string;
  /** Killed for exceeding its memory limit. */
  oomKilled?: boolean;
  /** An adopted process (started by a daemon that died) ended: nobody can wait for a process
   * that is not one's child, so its code is not known; exitCode is then 255, a failure. */
  codeUnknown?: boolean;
}

export type OutputStream = 'stdout' | 'stderr';

export interface ReplicaHandle {
  /** Runtime-specific id (pid for processes, container id for docker). */
  readonly id: string;
  readonly pid?: number;
  /** Where the replica can be reached on the host (host, port) once it listens. */
  readonly address?: { host: string; port: number };
  /** Target port → the 127.0.0.1 host port that reaches it, when the runtime knows better than the
   * plan (an adopted container keeps the host ports it was created with). */
  readonly hostPorts?: Record<number, number>;
  /** Target port → where the app itself answers (a container's own IP), for readiness only: the
   * host port's proxy (Docker's docker-proxy) accepts connections before the app listens. */
  readonly innerPorts?: Record<number, { host: string; port: number }>;
  /** Resolves once, when the replica has exited for good (after stop or by itself). */
  readonly exited: Promise<ExitInfo>;
  /** Set when the replica never ran; `exited` is then already resolved with the same text. */
  readonly startError?: string;
  /** Called for every complete line of output. */
  onOutput(listener: (stream: OutputStream, line: string) => void): void;
  /** Graceful stop: stopSignal to the whole group, wait the grace period, then SIGKILL.
   * `graceMs` replaces the service's stop_grace_period for this stop (`herd stop -t`). */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** Send a signal to the whole group right away. */
  kill(signal: NodeJS.Signals): void;
  /** `herd pause`/`unpause`: freeze every process of the replica / let it run again. */
  pause?(): Promise<void>;
  resume?(): Promise<void>;
  /** Docker only: the engine's own healthcheck status, current status first, then each change. */
  onHealth?(listener: (status: 'starting' | 'healthy' | 'unhealthy') => void): void;
}

export interface Runtime {
  readonly kind: 'process' | 'docker';
  /** Starts a replica. Resolves with a handle even when the command cannot start: the handle's
   * `exited` then resolves with `startError` set, so the engine treats it like any other exit. */
  start(spec: ReplicaSpec): Promise<ReplicaHandle>;
  /** Takes over a replica that is already running (left by an earlier herd, e.g. a container
   * from before a daemon restart). The engine asks once per replica slot, before its first start
   * in the engine's life; undefined means "nothing to adopt, start a new one". Match on
   * project/service/index rather than the name: after a rolling restart a replica's runtime name
   * may be `<name>-next` (see engine/rollout.ts). */
  adopt?(spec: ReplicaSpec): Promise<ReplicaHandle | undefined>;
  /** `herd rm`: removes what the runtime keeps of an exited replica (a Docker container; with
   * `volumes`, its anonymous volumes too). Processes leave nothing behind. */
  remove?(spec: ReplicaSpec, opts: { volumes: boolean }): Promise<void>;
}
