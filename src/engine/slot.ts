// One replica slot as the engine tracks it: the public ReplicaInfo plus supervision bookkeeping.
import type { ReplicaHandle, ReplicaSpec } from '../runtime/types.ts';
import type { TimerHandle } from '../util/clock.ts';
import type { ReplicaInfo } from './events.ts';
import type { HealthWatch } from './health-watch.ts';

/** Why a replica is being stopped on purpose. `restart`: stop-first restart (started again at
 * once); `replaced`: its successor is ready and takes over the slot when it has exited. */
export type StopIntent = 'scale' | 'stop' | 'unhealthy' | 'dependency' | 'restart' | 'replaced';

export interface Slot {
  service: string;
  index: number;
  info: ReplicaInfo;
  handle?: ReplicaHandle;
  spec?: ReplicaSpec;
  /** Restarts that count against max_attempts. */
  attempts: number;
  lastDelayMs?: number;
  timer?: TimerHandle;
  health?: HealthWatch;
  ready: boolean;
  everStarted: boolean;
  stopIntent?: StopIntent;
  /** Bumped on every start so a stale exit is ignored. */
  generation: number;
  idleWaiters: (() => void)[];
  /** `<project>-<service>-<index>`: output is always reported under it, successor or not. */
  logName: string;
  /** Start-first restart: the replica that will take this slot over once it is ready. */
  successor?: Slot;
  /** Set on a successor until it takes the slot over. */
  successorOf?: Slot;
  /** The name the runtime gets (ReplicaSpec.name) when it differs from info.name. */
  runtimeName?: string;
  /** Signal sent by `herd kill` since the last start: decides what its exit means. */
  killedWith?: NodeJS.Signals;
}

export function newSlot(project: string, service: string, index: number): Slot {
  const name = `${project}-${service}-${index}`;
  return {
    service,
    index,
    info: {
      service,
      index,
      name,
      state: 'waiting',
      health: 'none',
      host: '127.0.0.1',
      ports: {},
      restarts: 0,
      ready: false,
    },
    attempts: 0,
    ready: false,
    everStarted: false,
    generation: 0,
    idleWaiters: [],
    logName: name,
  };
}

/** A copy for listeners, so they never see later mutations. */
export function snapshot(info: ReplicaInfo): ReplicaInfo {
  return { ...info, ports: { ...info.ports }, lastExit: info.lastExit && { ...info.lastExit } };
}

/** `web-2`: how logs and notices name a replica, like docker compose's prefixes. */
export function shortName(slot: { service: string; index: number }): string {
  return `${slot.service}-${slot.index}`;
}
