// The JSON shapes of the control API, shared by server and client.
import type { ExposeSpec, PortRange, PortSpec } from '../compose/model.ts';
import type { AutoscaleStatus } from '../engine/autoscaler.ts';
import type { MetricReading } from '../engine/autoscaler-decide.ts';
import type { IdleStatus } from '../engine/autoscaler-idle.ts';
import type { ReplicaInfo, UpdateStatus } from '../engine/events.ts';
import type { ProbeResult } from '../health/probe.ts';
import type { LogEntry } from '../logs/record.ts';
import type { RuntimeKind } from '../compose/runtime-kind.ts';
import type { ExitInfo } from '../runtime/types.ts';
import type { HerdErrorCode } from '../util/errors.ts';
import {
  bool,
  dict,
  list,
  literal,
  num,
  object,
  optional,
  str,
  type Shape,
} from '../util/shape.ts';
import type { ProcessRow } from './proc-stats.ts';

/** GET /v1/exec-target: where `herd exec`/`run` finds a replica to join. */
export interface ExecTarget {
  runtime: RuntimeKind;
  /** `<project>-<service>-<n>`. */
  name: string;
  pid: number;
  /** Process runtime only: the replica's environment, cwd, ids and cgroup.procs files. */
  env: Record<string, string>;
  cwd: string;
  uid: number;
  gid: number;
  cgroupProcs: string[];
}

export interface PingResponse {
  project: string;
  pid: number;
}

export interface ServiceSummary {
  name: string;
  ports: PortSpec[];
  expose: ExposeSpec[];
  scale: number;
  stopped: boolean;
  /** Every replica is waiting to restart (backoff): the service serves nothing until this time,
   * its next attempt (epoch ms). */
  downUntil?: number;
}

export interface PsReplica extends ReplicaInfo {
  cpuPercent?: number;
  memBytes?: number;
  /** Traffic through herd's balancer to this replica (absent when it serves no port). */
  traffic?: ReplicaTraffic;
}

export interface ReplicaTraffic {
  requests: number;
  /** 5xx answers and failed attempts. */
  errors: number;
  inFlight: number;
  connections: number;
  /** Cumulative answered requests per latency bucket (proxy/counters.ts LATENCY_BUCKETS_MS, plus
   * the overflow bucket), for the dashboard's quantiles. */
  latencyBuckets?: number[];
}

export interface PsResponse {
  project: string;
  /** Daemon clock when the answer was made, so "5 minutes ago" is computed against it. */
  now: number;
  services: ServiceSummary[];
  replicas: PsReplica[];
  /** Services with `x-herd.autoscale` and the autoscaler's latest decision on each. */
  autoscaling?: AutoscaleStatus[];
  /** What the daemon wants the user to know (a state file it cannot write, a service down for
   * backoff); printed by `ps` on stderr. */
  warnings?: string[];
  /** Each service's last update, rolling restart or rollback (engine/update.ts). */
  updates?: UpdateStatus[];
}

export interface ScaleResponse {
  /** `autoscale`: the service is autoscaled between these bounds, so the count set is where the
   * autoscaler starts from, not where it stays. */
  scaled: {
    service: string;
    from: number;
    to: number;
    autoscale?: { min: number; max: number };
  }[];
}

export interface ServicesResponse {
  services: string[];
  replicas: string[];
}

export interface DashboardResponse {
  /** The page's address with `?token=…`. */
  url: string;
}

export interface PortResponse {
  address: string;
}

export interface TopReplica {
  name: string;
  service: string;
  pid?: number;
  /** CPU of the whole process group since the previous `top` (or over a short fresh window). */
  cpuPercent?: number;
  /** Resident memory of the whole process group. */
  memBytes?: number;
  processes: ProcessRow[];
}

export interface TopResponse {
  replicas: TopReplica[];
}

/** Every refused or failed request: the message for the user, the code for the client to branch
 * on (absent from daemons older than the codes). */
export interface ErrorResponse {
  error: string;
  code?: HerdErrorCode;
}

// The schema of every reply, which the client checks before any caller reads it: a daemon of
// another version, or something else answering on the socket, gets a clear error instead of a
// TypeError deep in a formatter. Fields the CLI reads are checked; extra ones are allowed.

const exitInfo = object<ExitInfo>({
  exitCode: num,
  signal: optional(str) as Shape<NodeJS.Signals | undefined>,
  startError: optional(str),
  oomKilled: optional(bool),
  codeUnknown: optional(bool),
});

const probeResult = object<ProbeResult>({ exitCode: num, output: str, start: num, end: num });

const replicaFields = {
  service: str,
  index: num,
  name: str,
  state: literal('waiting', 'starting', 'running', 'stopping', 'backoff', 'exited', 'removed'),
  health: literal('none', 'starting', 'healthy', 'unhealthy'),
  pid: optional(num),
  host: str,
  port: optional(num),
  ports: dict(num) as Shape<Record<number, number>>,
  restarts: num,
  startedAt: optional(num),
  finishedAt: optional(num),
  restartAt: optional(num),
  lastExit: optional(exitInfo),
  reason: optional(str),
  healthOutput: optional(str),
  healthLog: optional(list(probeResult)),
  ready: optional(bool),
  paused: optional(bool),
};

export const replicaInfoShape = object<ReplicaInfo>(replicaFields);

const portSpec = object<PortSpec>({
  target: num,
  published: optional(object<PortRange>({ start: num, end: num })),
  hostIp: optional(str),
  protocol: literal('tcp', 'udp'),
  appProtocol: optional(str),
  name: optional(str),
});

const autoscaleStatus = object<AutoscaleStatus>({
  service: str,
  min: num,
  max: num,
  desired: num,
  readings: list(
    object<MetricReading>({ metric: str, target: num, value: num, measured: num, missing: num }),
  ),
  last: optional(
    object<NonNullable<AutoscaleStatus['last']>>({
      at: num,
      from: num,
      to: num,
      metric: str,
      value: num,
      target: num,
      reason: str,
    }),
  ),
  idle: optional(object<IdleStatus>({ idleMs: num, idleForMs: num, zeroSince: optional(num) })),
});

export const psShape = object<PsResponse>({
  project: str,
  now: num,
  services: list(
    object<ServiceSummary>({
      name: str,
      ports: list(portSpec),
      expose: list(object<ExposeSpec>({ port: num, protocol: literal('tcp', 'udp') })),
      scale: num,
      stopped: bool,
      downUntil: optional(num),
    }),
  ),
  replicas: list(
    object<PsReplica>({
      ...replicaFields,
      cpuPercent: optional(num),
      memBytes: optional(num),
      traffic: optional(
        object<ReplicaTraffic>({
          requests: num,
          errors: num,
          inFlight: num,
          connections: num,
          latencyBuckets: optional(list(num)),
        }),
      ),
    }),
  ),
  warnings: optional(list(str)),
  autoscaling: optional(list(autoscaleStatus)),
  updates: optional(
    list(
      object<UpdateStatus>({
        service: str,
        kind: literal('update', 'restart', 'rollback'),
        state: literal(
          'updating',
          'completed',
          'paused',
          'rolling back',
          'rolled back',
          'rollback paused',
        ),
        message: optional(str),
        startedAt: num,
        at: num,
      }),
    ),
  ),
});

const servicesShape = object<ServicesResponse>({ services: list(str), replicas: list(str) });

export const topShape = object<TopResponse>({
  replicas: list(
    object<TopReplica>({
      name: str,
      service: str,
      pid: optional(num),
      cpuPercent: optional(num),
      memBytes: optional(num),
      processes: list(
        object<ProcessRow>({
          pid: num,
          ppid: num,
          uid: num,
          rssBytes: num,
          cpuSeconds: num,
          state: str,
          command: str,
        }),
      ),
    }),
  ),
});

/** Each route's reply (streams: each line). */
export const replyShapes: Record<string, Shape<unknown>> = {
  'GET /v1/ping': object<PingResponse>({ project: str, pid: num }),
  'GET /v1/ps': psShape,
  'GET /v1/top': topShape,
  'GET /v1/port': object<PortResponse>({ address: str }),
  'GET /v1/dashboard': object<DashboardResponse>({ url: str }),
  'POST /v1/scale': object<ScaleResponse>({
    scaled: list(
      object<ScaleResponse['scaled'][number]>({
        service: str,
        from: num,
        to: num,
        autoscale: optional(object<{ min: number; max: number }>({ min: num, max: num })),
      }),
    ),
  }),
  'POST /v1/stop': servicesShape,
  'POST /v1/start': servicesShape,
  'POST /v1/restart': servicesShape,
  'POST /v1/kill': servicesShape,
  'POST /v1/down': servicesShape,
  'POST /v1/apply': servicesShape,
  'POST /v1/rollback': servicesShape,
  'POST /v1/pause': servicesShape,
  'POST /v1/unpause': servicesShape,
  'POST /v1/rm': servicesShape,
  'GET /v1/exec-target': object<ExecTarget>({
    runtime: literal('process', 'docker'),
    name: str,
    pid: num,
    env: dict(str),
    cwd: str,
    uid: num,
    gid: num,
    cgroupProcs: list(str),
  }),
  'GET /v1/logs': object<LogEntry>({
    t: num,
    stream: literal('stdout', 'stderr'),
    line: str,
    name: str,
    service: str,
  }),
  // Events are a union; the CLI formats any `type` it knows and prints the rest as JSON.
  'GET /v1/events': object<{ type: string; at: number }>({ type: str, at: num }),
};
