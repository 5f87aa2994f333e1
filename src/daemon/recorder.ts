// Keeps the state file in step with what the daemon was told (scale, stop/start) and with the
// replicas the engine runs (pid + start time), so a later daemon can find and stop orphans.
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';
import type { EngineControl } from './control.ts';
import { processStartTime } from './identity.ts';
import { emptyState, writeState, type DaemonState, type RecordedReplica } from './state-file.ts';

export class StateRecorder {
  private state: DaemonState;
  private readonly listener = (e: EngineEvent) => this.onEvent(e);

  constructor(
    private readonly file: string,
    project: string,
    initial?: DaemonState,
  ) {
    this.state = {
      ...(initial ?? emptyState(project)),
      project,
      replicas: [],
      daemonPid: process.pid,
    };
    this.flush();
  }

  get current(): DaemonState {
    return structuredClone(this.state);
  }

  attach(engine: EngineControl): void {
    engine.on('event', this.listener);
    for (const r of engine.replicas()) this.track(r);
    this.flush();
  }

  detach(engine: EngineControl): void {
    engine.off('event', this.listener);
  }

  setScale(service: string, n: number): void {
    this.state.scale[service] = n;
    this.flush();
  }

  setStopped(services: string[], stopped: boolean): void {
    const set = new Set(this.state.stopped);
    for (const s of services)
      if (stopped) set.add(s);
      else set.delete(s);
    this.state.stopped = [...set].sort();
    this.flush();
  }

  private onEvent(e: EngineEvent): void {
    if (e.type === 'replica' && this.track(e.replica)) this.flush();
  }

  /** Returns true when the recorded replicas changed. */
  private track(r: ReplicaInfo): boolean {
    const list = this.state.replicas;
    const i = list.findIndex((x) => x.name === r.name);
    const alive = r.pid !== undefined && ['starting', 'running', 'stopping'].includes(r.state);
    if (!alive) {
      if (i < 0) return false;
      list.splice(i, 1);
      return true;
    }
    if (i >= 0 && list[i]!.pid === r.pid) return false;
    const startTime = processStartTime(r.pid!);
    if (startTime === undefined) return false; // already gone (or a container pid we cannot see)
    const rec: RecordedReplica = { name: r.name, service: r.service, pid: r.pid!, startTime };
    if (i >= 0) list[i] = rec;
    else list.push(rec);
    return true;
  }

  private flush(): void {
    writeState(this.file, this.state);
  }
}
