// The JSON shapes of the control API, shared by server and client.
import type { ExposeSpec, PortSpec } from '../compose/model.ts';
import type { AutoscaleStatus } from '../engine/autoscaler.ts';
import type { ReplicaInfo, UpdateStatus } from '../engine/events.ts';
import type { HerdErrorCode } from '../util/errors.ts';
import type { ProcessRow } from './proc-stats.ts';

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
}

export interface PsResponse {
  project: string;
  /** Daemon clock when the answer was made, so "5 minutes ago" is computed against it. */
  now: number;
  services: ServiceSummary[];
  replicas: PsReplica[];
  /** Services with `x-herd.autoscale` and the autoscaler's latest decision on each. */
  autoscaling?: AutoscaleStatus[];
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
