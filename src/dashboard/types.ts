// The few fields of the control API's `ps` answer the dashboard's server reads (for its history);
// the page gets the whole answer. Declared here so the dashboard depends on no daemon module.

export interface ReplicaView {
  name: string;
  service: string;
  state: string;
  health?: string;
  cpuPercent?: number;
  memBytes?: number;
  traffic?: {
    requests: number;
    errors: number;
    inFlight: number;
    /** Cumulative counts per latency bucket (the balancer's), when it reports them. */
    latencyBuckets?: number[];
    /** Filled in by the dashboard: requests per second since the previous sample. */
    rps?: number;
    /** Filled in by the dashboard from the buckets' growth. */
    latency?: LatencyView;
  };
}

/** Latency quantiles in seconds, when the balancer reports them. */
export interface LatencyView {
  p50?: number;
  p99?: number;
}

export interface StateView {
  project: string;
  now: number;
  services: { name: string; scale: number; stopped: boolean }[];
  replicas: ReplicaView[];
}

/** The actions the page offers, each one call of the control API. */
export type DashboardAction = 'scale' | 'restart' | 'stop' | 'start';

/** What the dashboard needs from the daemon: its state, its actions, its events. */
export interface DashboardBackend {
  state(): Promise<StateView>;
  act(action: DashboardAction, body: unknown): Promise<unknown>;
  /** Calls `listener` with each engine event (not replica output); returns the unsubscribe. */
  onEvent(listener: (event: unknown) => void): () => void;
}

/** One service's numbers at one tick of the dashboard's history (history.ts). */
export interface Sample {
  /** Daemon clock, ms. */
  t: number;
  rps: number;
  errorsPerSecond: number;
  running: number;
  /** Sum over the service's replicas, % of one core. */
  cpuPercent: number;
  memBytes: number;
  /** Latency quantiles of the requests answered since the previous sample, seconds (absent when
   * there were none). */
  p50?: number;
  p99?: number;
}

export type History = Record<string, Sample[]>;
