// The routing table as the data plane reads it, and the operations that change it. The daemon's
// side of the balancer (proxy.ts: which ports a project needs, who is ready) drives a DataPlane:
// the listeners and pools in this very process (local-plane.ts) or in a proxy process group of
// their own (process/remote-plane.ts), whose primary keeps the same table and hands it to its
// workers. Everything here is plain data, so it crosses a socket as JSON.
import type { IngressSettings } from '../compose/ingress-settings.ts';
import type { Route } from '../compose/routes.ts';
import type { LbSettings } from './balancer.ts';
import type { ReplicaStats } from './counters.ts';
import type { HttpLimits } from './http-limits.ts';
import type { ListenMode } from './listener.ts';

/** One listening socket and the pool behind it. */
export interface ListenerSpec {
  /** Unique within a proxy for its whole life (never reused for another listener). */
  id: string;
  service: string;
  host: string;
  /** 0: any free port (the plane reports the one it got). */
  port: number;
  mode: ListenMode;
  lb: LbSettings;
  /** The ingress's own pool: pass on its X-Forwarded-* (see http-write.ts forwardedHead). */
  keepForwarded?: boolean;
  /** How long a request waits for a replica when none is ready, instead of the plane's holdMs
   * (a service scaled to zero: its ready timeout, while one starts). */
  holdMs?: number;
}

/** A replica in a listener's pool: where that listener sends its traffic. */
export interface EndpointSpec {
  listener: string;
  replica: string;
  service: string;
  host: string;
  port: number;
}

/** What every listener of a plane shares. */
export interface PlaneSettings {
  limits: HttpLimits;
  sniffMs: number;
  /** Keep-alive upstream sockets idle longer than this are closed. */
  upstreamIdleMs: number;
  /** Slow start: a new member's share ramps up over this window (0: full share at once). */
  slowStartMs: number;
}

/** A whole table: what a (re)connecting daemon sends so that the plane matches it exactly. */
export interface TableSnapshot {
  listeners: (ListenerSpec & { boundPort?: number })[];
  endpoints: EndpointSpec[];
}

/** The ingress (x-herd.ingress) a plane serves: its entries and routes, and which listener is
 * each routed port's pool (the plane resolves it to where that listener is bound). */
export interface IngressConfig {
  settings: IngressSettings;
  routes: Route[];
  /** `<service>:<port>` → id of the listener that is that port's pool. */
  pools: Record<string, string>;
}

export interface DataPlane {
  /** Binds the listener (an error with a code such as EADDRINUSE when it cannot); resolves with
   * the bound port. */
  open(spec: ListenerSpec): Promise<number>;
  /** Lets go of the port but keeps serving the open connections; `resume` takes it again. */
  stopAccepting(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Closes the listener and its connections. */
  close(id: string): Promise<void>;
  add(e: EndpointSpec): void;
  /** Out of the listeners' pools at once; in-flight requests finish on their own. */
  remove(replica: string, listeners: string[]): void;
  /** Like remove, and resolves once no request to the replica is in flight. */
  drain(replica: string, listeners: string[]): Promise<void>;
  /** Per-replica counters summed over every process serving. */
  stats(): ReplicaStats[];
  /** The same, read now (a remote plane asks its processes). */
  counters(): Promise<ReplicaStats[]>;
  /** Processes serving connections (empty when it is this one). */
  pids(): number[];
  /** Closes every listener; a remote plane also ends its processes. */
  shutdown(): Promise<void>;
  /** A plane that adopted a running proxy: make its table this one's, keeping the endpoints of
   * `keepReplicas` not re-added yet (see Proxy.settle). */
  settle(keepReplicas: string[]): Promise<void>;
  /** Serve this ingress (null: none). The same settings keep the entries open and take the new
   * routes; other settings reopen them. Rejects when an entry cannot be bound. */
  ingress(config: IngressConfig | null): Promise<void>;
}
