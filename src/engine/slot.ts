// One replica slot as the engine tracks it: the public ReplicaInfo plus supervision bookkeeping.
import type { ReplicaHandle, ReplicaSpec } from '../runtime/types.ts';
import type { TimerHandle } from './clock.ts';
import type { ReplicaInfo } from './events.ts';
import type { HealthWatch } from './health-watch.ts';

/** Why a replica is being stopped on purpose. */
export type StopIntent = 'scale' | 'stop' | 'unhealthy' | 'dependency';

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
}

export function newSlot(project: string, service: string, index: number): Slot {
  return {
    service,
    index,
    info: {
      service,
      index,
      name: `${project}-${service}-${index}`,
      state: 'waiting',
      health: 'none',
      host: '127.0.0.1',
      ports: {},
      restarts: 0,
    },
    attempts: 0,
    ready: false,
    everStarted: false,
    generation: 0,
    idleWaiters: [],
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
