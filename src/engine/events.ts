// What the engine tells the rest of herd (proxy, logs, CLI, daemon) as replicas change.
import type { ExitInfo, OutputStream } from '../runtime/types.ts';
import type { ProbeResult } from '../health/probe.ts';

/** One replica's lifecycle. See engine/lifecycle.ts for the allowed transitions. */
export type ReplicaState =
  | 'waiting' // desired, waiting for its dependencies' conditions
  | 'starting' // runtime asked to start it
  | 'running' // process/container is up
  | 'stopping' // draining then signalled; exit expected
  | 'backoff' // exited, restart scheduled after a delay
  | 'exited' // exited and will not be restarted (policy, stopped by user, attempts exhausted)
  | 'removed'; // scaled away; kept only until listeners saw it

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

export interface ReplicaInfo {
  service: string;
  index: number;
  /** `<project>-<service>-<index>` */
  name: string;
  state: ReplicaState;
  health: HealthStatus;
  pid?: number;
  /** Host and ports where the replica listens: `port` is its PORT; `ports` maps each declared
   * target port (ports/expose) to the host port that reaches it. */
  host: string;
  port?: number;
  ports: Record<number, number>;
  restarts: number;
  startedAt?: number;
  finishedAt?: number;
  /** In backoff: when the next start attempt is due (epoch ms). */
  restartAt?: number;
  lastExit?: ExitInfo;
  /** Why it is in this state, for `ps` and logs: "waiting for db (service_healthy)", … */
  reason?: string;
  /** Output of the probe that last changed its health (trimmed), for logs and `ps`. */
  healthOutput?: string;
  /** The last probes herd ran, oldest first, as Docker keeps them (`State.Health.Log`). Only in
   * `replicas()` answers (for `ps`), not in events. */
  healthLog?: ProbeResult[];
  /** In the balancer's pool: running, and healthy (with a healthcheck) or accepting connections
   * on its port (a service with ports/expose). Absent until it first became ready. */
  ready?: boolean;
  /** Frozen by `herd pause` (state stays `running`; `ps` shows "Paused"). */
  paused?: boolean;
}

export type EngineEvent =
  | { type: 'replica'; at: number; replica: ReplicaInfo }
  /** The replica may receive traffic now: running, and healthy if it has a healthcheck, else
   * accepting connections on its port if its service has ports/expose. */
  | { type: 'ready'; at: number; replica: ReplicaInfo }
  /** The replica must receive no new traffic (exited, unhealthy, draining, removed). */
  | { type: 'unready'; at: number; replica: ReplicaInfo; reason: string }
  | {
      type: 'output';
      at: number;
      service: string;
      name: string;
      stream: OutputStream;
      line: string;
    }
  /** `autoscale`: set by the autoscaler, with why; absent: by command or the compose file. */
  | {
      type: 'scaled';
      at: number;
      service: string;
      from: number;
      to: number;
      autoscale?: AutoscaleDecision;
    }
  /** An update, rolling restart or rollback of a service changed state (update.ts). */
  | { type: 'update'; at: number; update: UpdateStatus }
  | { type: 'notice'; at: number; service?: string; name?: string; message: string };

/** Where a service's last update (or rolling restart, or rollback) is. `paused`: stopped on a
 * failure, the replicas left as they were; `rolled back`: the previous definition is live again. */
export type UpdateState =
  'updating' | 'completed' | 'paused' | 'rolling back' | 'rolled back' | 'rollback paused';

export interface UpdateStatus {
  service: string;
  /** `update`: a changed definition; `restart`: `herd restart`; `rollback`: `herd rollback`. */
  kind: 'update' | 'restart' | 'rollback';
  state: UpdateState;
  /** Why it paused or rolled back, with the failing replica's last lines of output. */
  message?: string;
  startedAt: number;
  at: number;
}

/** One decision of the autoscaler: the metric that drove it, its average per ready replica over
 * the window, the target, and the sentence `ps` and `events` show. */
export interface AutoscaleDecision {
  from: number;
  to: number;
  metric: string;
  value: number;
  target: number;
  reason: string;
}

/** Implemented by the proxy: called before a replica is stopped on purpose (scale-down, stop,
 * rolling restart) and resolves when its in-flight requests are done or the timeout passed. */
export type Drainer = (replica: ReplicaInfo, timeoutMs: number) => Promise<void>;
