// Exactly what the control API needs from the engine. The real Engine (src/engine/engine.ts)
// implements it; the daemon server depends only on this interface.
import type { Project } from '../compose/model.ts';
import type { AutoscaleStatus } from '../engine/autoscaler.ts';
import type { DefinitionRecord, Forgotten, StopOptions, UpdateStatus } from '../engine/engine.ts';
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';

export interface EngineControl {
  /** Every replica the engine knows, including exited ones (`ps -a`). */
  replicas(): ReplicaInfo[];
  /** Desired replica count for one service; the engine reconciles toward it. */
  setScale(service: string, n: number): void;
  /** The autoscaled services with the autoscaler's latest decision (for `ps` and `scale`). */
  autoscaling?(): AutoscaleStatus[];
  /** Graceful stop of the named services (all when undefined); they stay stopped. */
  stopServices(services?: string[], opts?: StopOptions): Promise<void>;
  /** Starts stopped services again at their desired scale (all when undefined). */
  startServices(services?: string[]): Promise<void>;
  /** Rolling restart, one replica at a time, each drained
   * first and replaced only after its successor is ready. */
  restartServices(services?: string[], opts?: StopOptions): Promise<void>;
  /** Sends `signal` to every running replica of the services (all when undefined) right away;
   * Docker's rules then apply (SIGKILL or the stop signal count as a manual stop). */
  killServices(signal: NodeJS.Signals, services?: string[]): void;
  /** `herd pause`/`unpause`: the running replicas' names it paused (or let run again). */
  pauseServices?(paused: boolean, services?: string[]): Promise<string[]>;
  /** `herd rm`: forgets exited replicas of services with nothing running. */
  removeExited?(services?: string[], opts?: { volumes: boolean }): Promise<Forgotten>;
  /** Reconciles to a re-loaded project — new services start,
   * removed ones stop, changed ones are replaced (rolling). */
  apply(project: Project): Promise<void>;
  /** Graceful stop of everything, in reverse dependency order. */
  shutdown(opts?: StopOptions): Promise<void>;
  /** `herd rollback`: the service's previous definition becomes live again. */
  rollbackService?(service: string): Promise<void>;
  /** Where each service's last update stands (for `ps`). */
  updates?(): UpdateStatus[];
  /** The live, previous and requested definitions, for the daemon's record. */
  definitionRecords?(): DefinitionRecord[];
  /** Before `up`: what a dead predecessor recorded as live. */
  restoreDefinitions?(records: DefinitionRecord[]): Promise<void>;
  /** The project with the definitions that are live (a rollback changes them). */
  readonly project?: Project;
  on(event: 'event', listener: (e: EngineEvent) => void): unknown;
  off(event: 'event', listener: (e: EngineEvent) => void): unknown;
}
