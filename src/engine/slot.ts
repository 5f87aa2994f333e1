// One replica slot: every fact the engine keeps about a replica. The facts change only through
// the replica state machine (replica-machine.ts, applied by Supervisor.dispatch); the runtime
// resources (handle, timer, health watch) are held here by the supervisor that executes it.
import type { ReplicaHandle, ReplicaSpec } from '../runtime/types.ts';
import type { TimerHandle } from '../util/clock.ts';
import type { ReplicaInfo, ReplicaState } from './events.ts';
import type { HealthWatch } from './health-watch.ts';

/** Why a replica is being stopped on purpose. `restart`: stop-first restart (started again at
 * once); `replaced`: its successor is ready and takes over the slot when it has exited;
 * `dependency`: a dependency declared with `restart: true` was restarted. */
export type StopIntent = 'scale' | 'stop' | 'unhealthy' | 'dependency' | 'restart' | 'replaced';

/** The machine's states. `draining` is shown as `running` (it still serves what it has in
 * flight) but takes no new traffic; every other phase is shown under its own name. */
export type Phase = ReplicaState | 'draining';

export interface Slot {
  service: string;
  index: number;
  phase: Phase;
  /** What listeners and `ps` see; `info.state` follows `phase`. */
  info: ReplicaInfo;
  /** Restarts that count against max_attempts. */
  attempts: number;
  lastDelayMs?: number;
  /** In the balancer's pool. */
  ready: boolean;
  everStarted: boolean;
  stopIntent?: StopIntent;
  /** The grace period of the stop under way (`herd stop -t`), else the service's. */
  stopGraceMs?: number;
  /** Bumped on every start and every cancelled wait, so a stale exit or timer is ignored. */
  generation: number;
  /** Signal sent by `herd kill` since the last start: decides what its exit means. */
  killedWith?: NodeJS.Signals;
  /** `<project>-<service>-<index>`: output is always reported under it, successor or not. */
  logName: string;
  /** Start-first restart: the replica that will take this slot over once it is ready. */
  successor?: Slot;
  /** Set on a successor until it takes the slot over. */
  successorOf?: Slot;
  /** The name the runtime gets (ReplicaSpec.name) when it differs from info.name. */
  runtimeName?: string;
  /** Hash of the service definition it was last started with (service-hash.ts): an update
   * replaces the replicas whose definition is not the service's. */
  definition?: string;
  /** Frozen by `herd pause`: out of the pool, not health-checked, until `herd unpause`. */
  paused?: boolean;
  /** Its last lines of output, for the message of an update that failed because of it. */
  recentOutput: string[];
  // Resources held while the replica lives (set and cleared by the supervisor's actions).
  handle?: ReplicaHandle;
  spec?: ReplicaSpec;
  timer?: TimerHandle;
  health?: HealthWatch;
  idleWaiters: (() => void)[];
}

export function newSlot(project: string, service: string, index: number): Slot {
  const name = `${project}-${service}-${index}`;
  return {
    service,
    index,
    phase: 'waiting',
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
    recentOutput: [],
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

/** Phases in which nothing runs: a stop waiting on the replica is over. */
export function isIdle(phase: Phase): boolean {
  return phase === 'exited' || phase === 'removed' || phase === 'waiting' || phase === 'backoff';
}
