// What the replica state machine speaks: the events a replica receives, the actions a step asks
// the supervisor to carry out, and the facts a step may change (replica-machine.ts has the table).
import type { Service } from '../compose/model.ts';
import type { ExitInfo, ReplicaHandle, ReplicaSpec } from '../runtime/types.ts';
import type { ReplicaInfo } from './events.ts';
import type { Phase, Slot, StopIntent } from './slot.ts';

export type ReplicaEvent =
  /** The dependencies allow a start (`without`: failed optional ones, announced). */
  | { type: 'gate-open'; without: string[] }
  | { type: 'gate-wait'; reason: string }
  | { type: 'gate-failed'; reason: string }
  /** The replica's spec and host ports are known (before the runtime starts it). */
  | {
      type: 'planned';
      spec: ReplicaSpec;
      port?: number;
      ports: Record<number, number>;
      /** Hash of the definition it is started with. */
      definition: string;
    }
  | { type: 'started'; handle: ReplicaHandle; adopted: boolean; adoptedPorts?: AdoptedAddress }
  | { type: 'exited'; exit: ExitInfo }
  | { type: 'health'; status: 'healthy' | 'unhealthy'; output?: string }
  /** A replica without a healthcheck accepts connections on its port. */
  | { type: 'listening' }
  | { type: 'stop'; intent: StopIntent; graceMs?: number }
  | { type: 'drained' }
  /** `herd kill`; `manual`: SIGKILL or the stop signal, which Docker treats as a manual stop. */
  | { type: 'kill'; signal: NodeJS.Signals; manual: boolean }
  | { type: 'backoff-elapsed' }
  /** The second Ctrl-C: SIGKILL now, as a stop. */
  | { type: 'abort' }
  /** `herd up`/`start` takes a stopped replica up again. */
  | { type: 'reset' }
  /** Recorded as stopped by a daemon that restarted: shown as exited, not started. */
  | { type: 'hold' }
  /** A successor that will not take over leaves the view. */
  | { type: 'discard' }
  /** `herd pause` / `herd unpause` (pause-step.ts). */
  | { type: 'pause' }
  | { type: 'unpause' }
  /** `herd rm`: an exited replica leaves the view. */
  | { type: 'forget' };

/** Where an adopted replica really listens (it was started by an earlier herd). */
export interface AdoptedAddress {
  spec?: ReplicaSpec;
  port?: number;
  ports?: Record<number, number>;
}

export type Action =
  | { do: 'start' }
  /** Follow health, or wait until it listens, or call it ready at once. */
  | { do: 'watch' }
  | { do: 'unwatch' }
  | { do: 'drain' }
  | { do: 'signal-stop' }
  | { do: 'kill'; signal: NodeJS.Signals }
  | { do: 'schedule-restart'; delayMs: number }
  | { do: 'cancel-timer' }
  /** Tell listeners the replica joined (`ready`) or left the pool. */
  | { do: 'announce'; ready: boolean; reason?: string }
  /** Tell listeners its info changed without a change of phase. */
  | { do: 'emit' }
  | { do: 'notice'; message: string }
  | { do: 'remove' }
  | { do: 'hand-over' }
  | { do: 'drop-successor' }
  | { do: 'restart-dependants' }
  | { do: 'stop-self'; intent: StopIntent }
  /** Freeze the replica's processes / let them run again. */
  | { do: 'pause' }
  | { do: 'resume' };

/** Facts a step may change; `info` fields are merged into the replica's public info. */
export type Facts = Partial<
  Pick<
    Slot,
    | 'attempts'
    | 'lastDelayMs'
    | 'ready'
    | 'everStarted'
    | 'stopIntent'
    | 'stopGraceMs'
    | 'generation'
    | 'killedWith'
    | 'handle'
    | 'spec'
    | 'definition'
    | 'paused'
  >
> & { info?: Partial<ReplicaInfo> };

export interface Step {
  /** The next phase; absent: the phase stays and no state change is announced. */
  to?: Phase;
  reason?: string;
  facts?: Facts;
  actions: Action[];
}

export interface MachineContext {
  service: Service;
  now: number;
  shuttingDown: boolean;
  /** The service is taken up (not stopped). */
  active: boolean;
  /** A start-first successor is running and can take the slot over. */
  successorRunning: boolean;
}

/** Leaves the pool, announcing it only when it was in it. */
export function leavePool(slot: Slot, reason: string): { facts: Facts; actions: Action[] } {
  if (!slot.ready) return { facts: {}, actions: [] };
  return {
    facts: { ready: false, info: { ready: false } },
    actions: [{ do: 'announce', ready: false, reason }],
  };
}
