// What the proxy offers the daemon and what it reads of the engine, as the proxy's own types: it
// imports nothing from the engine (it is to run as a process of its own); the engine's replicas
// and events fit these shapes.
import type { IngressSettings } from '../compose/ingress-settings.ts';
import type { Project, Service } from '../compose/model.ts';
import type { Route } from '../compose/routes.ts';
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
  /** A request is held for `service`, which has no replica (a service scaled to zero starts). */
  wake?(service: string): void;
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
   * Worker processes serving the ports (default: `x-herd: { proxy: { workers } }`, else 1). More
   * than one means a proxy process group (as `process` does), whatever `process` says.
   */
  workers?: number;
  /** Slow start window of a replica joining a pool that already serves (default 2 s; 0: off). */
  slowStartMs?: number;
  /** How long requests to `service` wait for a replica when none is ready, if not `holdMs` (a
   * service that scales to zero: while one starts). */
  holdFor?: (service: Service) => number | undefined;
  /**
   * Serve from a proxy process group of its own instead of this process: a primary holding the
   * listening sockets and a control socket in `dir` (default: a private temporary directory),
   * and the workers that accept and balance.
   */
  process?: ProxyProcessOptions;
}

export interface ProxyProcessOptions {
  /** Where the control socket (proxy.sock) goes: a 0700 directory such as the state dir. */
  dir?: string;
  /** Nice value for the proxy processes (lower runs first); default: as this process. */
  nice?: number;
  /** Extra environment for the proxy processes (HERD_PROXY_TRACE, …). */
  env?: Record<string, string>;
  /**
   * How to start this daemon again: the proxy's primary runs it (detached, output appended to
   * `log`, its own environment) when the daemon's connection dropped and its process is gone,
   * with a backoff, one at a time; and then it never ends for lack of a daemon.
   */
  revive?: { argv: string[]; cwd: string; log: string };
}

/** One port herd serves, as `ps` / `port` report it. */
export interface PortMapping {
  service: string;
  target: number;
  /** balanced: one port for all replicas; direct: one port per replica; internal: `expose`;
   * ingress: the loopback pool herd's ingress sends a routed port's requests to */
  kind: 'balanced' | 'direct' | 'internal' | 'ingress';
  /** replica index for `direct` mappings */
  index?: number;
  hostIp: string;
  hostPort: number;
}

/** A project's ingress as the daemon reads it from the file (x-herd.ingress and the routes). */
export interface IngressPlan {
  settings: IngressSettings;
  routes: Route[];
}

export interface Proxy {
  listen(): Promise<void>;
  serviceAddresses(): Record<string, { host: string; port: number }>;
  attach(engine: EngineLike): void;
  close(): Promise<void>;
  /** Per-replica counters of every serving process (from a proxy process group: as last
   * reported, at most ~250 ms old). */
  stats(): ReplicaStats[];
  /** The same, asked of the serving processes now. */
  counters(): Promise<ReplicaStats[]>;
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
  /** Process ids of the worker processes (empty when this process serves). */
  workerPids(): number[];
  /** Process id of the proxy process group's primary (undefined when this process serves). */
  primaryPid(): number | undefined;
  /** listen() found a proxy process group already serving (left by a daemon that died) and kept
   * it, with its ports and table: call settle() once the engine adopted what still runs. */
  adoptedProxy(): boolean;
  /** The table becomes exactly this daemon's, except that endpoints of `keepReplicas` it has not
   * re-added yet stay (until then an adopted proxy serves its last table). No-op otherwise. */
  settle(keepReplicas: string[]): Promise<void>;
  /** Serve this ingress (null: none) where the ports are served (a proxy process group keeps it
   * when the daemon dies), its routes reaching the `ingress` pools bound now: call it after
   * listen() and after each apply(). The same settings keep the entries open and swap the routes
   * in; other settings reopen them. Rejects (PORT_UNAVAILABLE) when an entry cannot be bound. */
  ingress(plan: IngressPlan | null): Promise<void>;
}
