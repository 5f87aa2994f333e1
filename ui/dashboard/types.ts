// What the dashboard's server sends (src/dashboard/live.ts, history.ts), as the page reads it.

export interface Replica {
  name: string;
  service: string;
  state: string;
  health: string;
  restarts: number;
  host?: string;
  port?: number;
  endpoint?: string;
  reason?: string;
  startedAt?: number;
  cpuPercent?: number;
  memBytes?: number;
  traffic?: {
    requests: number;
    errors: number;
    inFlight: number;
    /** Requests per second since the previous sample (the dashboard's server works it out). */
    rps?: number;
    latency?: { p50?: number; p99?: number };
  };
}

export interface Service {
  name: string;
  scale: number;
  stopped: boolean;
}

export interface State {
  project: string;
  now: number;
  services: Service[];
  replicas: Replica[];
}

// One shape for the history on both sides of the socket: the server's own (type-only, so nothing
// of the server is bundled).
import type { History } from '../../src/dashboard/types.ts';

export type { History, Sample } from '../../src/dashboard/types.ts';

export interface HerdEvent {
  type: string;
  at: number;
  replica?: {
    name: string;
    state: string;
    health?: string;
    reason?: string;
    lastExit?: { exitCode?: number; signal?: string; oomKilled?: boolean };
  };
  reason?: string;
  service?: string;
  name?: string;
  from?: number;
  to?: number;
  /** `scaled` events: set when the autoscaler decided, with why. */
  autoscale?: { metric: string; reason: string };
  message?: string;
  /** `update` events: a rolling update's progress (herd's update_config). */
  update?: { service: string; kind?: string; state: string; message?: string };
}

export type ServerMessage =
  | { type: 'snapshot'; state?: State; history: History; events: HerdEvent[]; error?: string }
  | { type: 'state'; state: State; sample: History }
  | { type: 'event'; event: HerdEvent }
  | { type: 'error'; error: string };
