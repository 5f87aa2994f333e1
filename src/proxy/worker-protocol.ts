// Messages between herd's main process and its proxy worker processes (over the fork IPC
// channel). The main process decides membership; workers only apply it and report counters.
import type { LbSettings } from './balancer.ts';
import type { ReplicaStats } from './counters.ts';
import type { HttpLimits } from './http-limits.ts';
import type { ListenMode } from './listener.ts';

export interface WorkerEntrySpec {
  service: string;
  lb: LbSettings;
  mode: ListenMode;
}

/** main → worker */
export type ToWorker =
  | {
      t: 'init';
      entries: WorkerEntrySpec[];
      limits: HttpLimits;
      sniffMs: number;
      upstreamIdleMs: number;
    }
  /** Sent with the entry's listening server as the handle. */
  | { t: 'listen'; entry: number }
  | { t: 'add'; entry: number; id: string; service: string; host: string; port: number }
  | { t: 'remove'; id: string; service: string }
  | { t: 'drain'; id: string; service: string; seq: number }
  | { t: 'close' };

/** worker → main */
export type FromWorker =
  | { t: 'hello' }
  | { t: 'ready' }
  | { t: 'stats'; stats: ReplicaStats[] }
  | { t: 'drained'; seq: number };
