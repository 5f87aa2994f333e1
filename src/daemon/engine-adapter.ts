// Bridges the Engine as it is today to EngineControl. Methods the Engine gains later
// (restartServices, killServices, apply) are used as soon as they exist; until then the daemon
// falls back to what the planned API allows, and says where it cannot.
import type { Project } from '../compose/model.ts';
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';
import { HerdError } from '../util/errors.ts';
import type { EngineControl } from './control.ts';
import { readStat } from './identity.ts';

/** The planned Engine API (src/engine/engine.ts) plus, optionally, the methods it lacks. */
export interface PlannedEngine {
  replicas(): ReplicaInfo[];
  setScale(service: string, n: number): void;
  stopServices(services?: string[]): Promise<void>;
  startServices(services?: string[]): Promise<void>;
  shutdown(): Promise<void>;
  on(event: 'event', listener: (e: EngineEvent) => void): unknown;
  off(event: 'event', listener: (e: EngineEvent) => void): unknown;
  restartServices?(services?: string[]): Promise<void>;
  killServices?(signal: NodeJS.Signals, services?: string[]): void;
  apply?(project: Project): Promise<void>;
}

const LIVE: ReplicaInfo['state'][] = ['starting', 'running', 'stopping'];

export function asEngineControl(engine: PlannedEngine): EngineControl {
  return {
    replicas: () => engine.replicas(),
    setScale: (s, n) => engine.setScale(s, n),
    stopServices: (s) => engine.stopServices(s),
    startServices: (s) => engine.startServices(s),
    shutdown: () => engine.shutdown(),
    on: (e, l) => engine.on(e, l),
    off: (e, l) => engine.off(e, l),
    async restartServices(services) {
      if (engine.restartServices) return engine.restartServices(services);
      // Fallback until the engine restarts rolling: each service stops, then starts again.
      const names = services ?? [...new Set(engine.replicas().map((r) => r.service))];
      for (const name of names) {
        await engine.stopServices([name]);
        await engine.startServices([name]);
      }
    },
    killServices(signal, services) {
      if (engine.killServices) return engine.killServices(signal, services);
      // Fallback: signal each live process replica's group (it leads its own group).
      for (const r of engine.replicas()) {
        if (services && !services.includes(r.service)) continue;
        if (r.pid === undefined || !LIVE.includes(r.state)) continue;
        const pgid = readStat(r.pid)?.pgid;
        try {
          process.kill(pgid === r.pid ? -r.pid : r.pid, signal);
        } catch {
          // exited meanwhile
        }
      }
    },
    async apply(project) {
      if (engine.apply) return engine.apply(project);
      throw new HerdError(
        're-applying a changed compose file to a running daemon is not supported yet; ' +
          'run `herd down` then `herd up -d`',
      );
    },
  };
}
