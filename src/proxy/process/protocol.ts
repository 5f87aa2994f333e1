// Messages between the daemon and a proxy primary (process/channel.ts frames them). The daemon
// owns the routing table and sends it as a whole (snapshot: after it connects, so a daemon that
// comes back resyncs) and as deltas; the primary keeps the last table whatever happens to the
// daemon, and reports counters and its workers.
import type { ReplicaStats } from '../counters.ts';
import type { EndpointSpec, ListenerSpec, TableSnapshot } from '../plane.ts';

/** daemon → primary: requests (with `id`, answered by a Reply) */
export type Request =
  | { id: number; op: 'open'; spec: ListenerSpec }
  | { id: number; op: 'stop' | 'resume' | 'close'; listener: string }
  | { id: number; op: 'drain'; replica: string; listeners: string[] }
  | { id: number; op: 'counters' }
  /** `keep`: endpoints of these replicas that the table lacks stay (a daemon that adopted a running
   * primary settles once it re-added what still runs); '*': nothing is closed or removed, the
   * table only adds (a daemon that adopted and has not settled yet). */
  | { id: number; op: 'snapshot'; table: TableSnapshot; keep?: string[] | '*' }
  | { id: number; op: 'shutdown' };

/** How to start the daemon again (ProxyProcessOptions.revive). */
export interface ReviveCommand {
  /** argv[0] is the executable. */
  argv: string[];
  cwd: string;
  /** The daemon's output is appended to it. */
  log: string;
}

/** daemon → primary: deltas that need no answer */
export type Delta =
  | { op: 'add'; endpoint: EndpointSpec }
  | { op: 'remove'; replica: string; listeners: string[] }
  /** Who the daemon on this connection is (sent first): the primary watches that exact process
   * (PID and start time) and, with `revive`, starts the daemon again when it is gone. */
  | { op: 'daemon'; pid: number; startTime: number; revive?: ReviveCommand };

export type ToPrimary = Request | Delta;

export interface Reply {
  id: number;
  ok: boolean;
  /** open: the bound port */
  port?: number;
  /** counters */
  stats?: ReplicaStats[];
  /** snapshot: listeners it could not bind, by id */
  failed?: Record<string, string>;
  error?: string;
  /** the system error code (EADDRINUSE, …) of a failed open */
  code?: string;
}

/** primary → daemon, unasked */
export type Notice =
  /** `listeners`: what the primary holds (a daemon that adopts it matches its own to them). */
  | { ev: 'hello'; pid: number; workers: number[]; listeners: HeldListener[] }
  | { ev: 'workers'; workers: number[] }
  | { ev: 'counters'; stats: ReplicaStats[] }
  | { ev: 'warn'; message: string }
  /** A request is held for `service` and it has no replica: passed on at once (scale to zero). */
  | { ev: 'hold'; service: string };

export type FromPrimary = Reply | Notice;

/** A listener a primary holds, as its hello reports it. */
export interface HeldListener {
  spec: ListenerSpec;
  port: number;
}

/** The control socket's name in the directory given to the proxy. */
export const CONTROL_SOCKET = 'proxy.sock';
