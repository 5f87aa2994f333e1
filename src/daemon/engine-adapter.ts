// Bridges the Engine to EngineControl, the one interface the daemon server depends on. The
// Engine implements every verb itself (rolling restart, kill, apply: src/engine/engine.ts).
import type { Project } from '../compose/model.ts';
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';
import type { EngineControl } from './control.ts';

/** What the daemon uses of the Engine (src/engine/engine.ts). */
export interface ControllableEngine {
  replicas(): ReplicaInfo[];
  setScale(service: string, n: number): void;
  stopServices(services?: string[]): Promise<void>;
  startServices(services?: string[]): Promise<void>;
  restartServices(services?: string[]): Promise<void>;
  killServices(signal: NodeJS.Signals, services?: string[]): void;
  apply(project: Project): Promise<void>;
  shutdown(): Promise<void>;
  on(event: 'event', listener: (e: EngineEvent) => void): unknown;
  off(event: 'event', listener: (e: EngineEvent) => void): unknown;
}

export function asEngineControl(engine: ControllableEngine): EngineControl {
  return {
    replicas: () => engine.replicas(),
    setScale: (s, n) => engine.setScale(s, n),
    stopServices: (s) => engine.stopServices(s),
    startServices: (s) => engine.startServices(s),
    restartServices: (s) => engine.restartServices(s),
    killServices: (signal, s) => engine.killServices(signal, s),
    apply: (project) => engine.apply(project),
    shutdown: () => engine.shutdown(),
    on: (e, l) => engine.on(e, l),
    off: (e, l) => engine.off(e, l),
  };
}
