// What the proxy offers the daemon and what it reads of the engine, as the proxy's own types: it
// imports nothing from the engine (it is to run as a process of its own); the engine's replicas
// and events fit these shapes.
import type { Project } from '../compose/model.ts';
import type { ReplicaStats } from './counters.ts';
import type { HttpLimits } from './http-limits.ts';

/** What the proxy needs to know of a replica to route to it. */
export interface RoutedReplica {
  service: string;
  index: number;
  /** `<project>-<service>-<index>` */
  name: string;
  /** Host and ports where the replica listens: `port` is its PORT; `ports` maps each declared
   * target port (ports/expose) to the host port that reaches it. */
  host: string;
  port?: number;
  ports: Record<number, number>;
}

/** Called before a replica is stopped on purpose (scale-down, stop, rolling restart); resolves
 * when its in-flight requests are done or the timeout passed. */
export type Drainer = (replica: RoutedReplica, timeoutMs: number) => Promise<void>;

/** An engine event as the proxy reads it: `ready` and `unready` move `replica` in or out of the
 * pools; the proxy ignores every other type. */
export interface MembershipEvent {
  type: string;
  replica?: RoutedReplica;
}

export interface EngineLike {
  on(ev: 'event', fn: (e: MembershipEvent) => void): unknown;
  setDrainer(d: Drainer): void;
}

export interface ProxyOptions {
  /** Limits and timeouts; `holdMs` is how long a request waits for a replica when none is ready. */
  limits?: Partial<HttpLimits>;
  sniffMs?: number;
  /** Where warnings go (UDP ports, …); default: stderr. */
  warn?: (message: string) => void;
  /** Keep-alive upstream sockets idle longer than this are closed (default 4 s, under Node's 5 s). */
  upstreamIdleMs?: number;
  /**
   * Processes serving the ports bound at listen(): this one plus `workers - 1` forked children
   * sharing the listening sockets. Default: `x-herd: { proxy: { workers } }`, else 1.
   */
  workers?: number;
}

/** One port herd serves, as `ps` / `port` report it. */
export interface PortMapping {
  service: string;
  target: number;
  /** balanced: one port for all replicas; direct: one port per replica; internal: `expose` */
  kind: 'balanced' | 'direct' | 'internal';
  /** replica index for `direct` mappings */
  index?: number;
  hostIp: string;
  hostPort: number;
}

export interface Proxy {
  listen(): Promise<void>;
  serviceAddresses(): Record<string, { host: string; port: number }>;
  attach(engine: EngineLike): void;
  close(): Promise<void>;
  stats(): ReplicaStats[];
  ports(): PortMapping[];
  /**
   * Follow a re-applied compose file: bind the ports it adds (a taken port is an error and
   * nothing changes), keep the ones it still has with their members, and retire the ones it
   * dropped. Call before the engine applies the file; call the returned function after, to close
   * the retired ports once their replicas have drained.
   */
  apply(next: Project): Promise<() => Promise<void>>;
  /** Feed membership directly (what attach() does with engine events). */
  replicaReady(r: RoutedReplica): void;
  replicaUnready(r: RoutedReplica): void;
  drain: Drainer;
  readonly warnings: string[];
  /** Process ids of the extra worker processes (empty with one worker). */
  workerPids(): number[];
}
