// Messages between a proxy primary and its worker processes (over the fork IPC channel). The
// primary holds the table and the bound sockets; workers only serve it and report counters.
import type { ReplicaStats } from './counters.ts';
import type { EndpointSpec, ListenerSpec, PlaneSettings } from './plane.ts';

/** primary → worker */
export type ToWorker =
  | { t: 'settings'; settings: PlaneSettings }
  /** Sent with the listener's bound socket (a raw handle) to accept on; answered `done` once
   * the worker accepts on it. */
  | { t: 'listen'; spec: ListenerSpec; seq: number }
  | { t: 'stop' | 'close'; listener: string }
  | { t: 'add'; endpoint: EndpointSpec }
  | { t: 'remove'; replica: string; listeners: string[] }
  /** Answered `done` once no request to the replica is in flight. */
  | { t: 'drain'; replica: string; listeners: string[]; seq: number }
  /** Answered with `stats`, then `done`. */
  | { t: 'report'; seq: number }
  | { t: 'exit' };

/** worker → primary */
export type FromWorker =
  | { t: 'hello' }
  | { t: 'stats'; stats: ReplicaStats[] }
  | { t: 'done'; seq: number }
  /** A listener of `service` holds a request and has no replica (scale to zero wakes on it). */
  | { t: 'hold'; service: string };
