// Keeps the state file in step with what the daemon was told (scale, stop/start) and with the
// replicas the engine runs (pid + start time), so a later daemon can find and stop orphans.
// The state in memory is what counts: a write that fails (a full disk) is retried and reported
// (a warning for `ps` and `events`) but never ends the daemon; a verb whose change could not be
// recorded is told so, with the error and the path.
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';
import { HerdError } from '../util/errors.ts';
import type { EngineControl } from './control.ts';
import { processStartTime } from '../util/process-identity.ts';
import { emptyState, writeState, type DaemonState, type RecordedReplica } from './state-file.ts';
import { RetriedWrite } from './retried-write.ts';
import { DaemonWarnings } from './warnings.ts';

export interface RecorderOptions {
  initial?: DaemonState;
  warnings?: DaemonWarnings;
  /** Tests: what writes the file. */
  write?: (file: string, state: DaemonState) => void;
}

export class StateRecorder {
  private state: DaemonState;
  private readonly listener = (e: EngineEvent) => this.onEvent(e);
  private readonly writer: RetriedWrite;

  constructor(file: string, project: string, opts: RecorderOptions = {}) {
    const write = opts.write ?? writeState;
    this.writer = new RetriedWrite({
      file,
      key: 'state-write',
      what: 'the state file',
      meanwhile: 'the daemon keeps running on the state it holds in memory and retries',
      warnings: opts.warnings ?? new DaemonWarnings(),
      write: () => write(file, this.state),
    });
    this.state = {
      ...(opts.initial ?? emptyState(project)),
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

  /** Throws (after the change took effect in memory) when it could not be written. */
  setScale(service: string, n: number): void {
    this.state.scale[service] = n;
    this.flushOrThrow(`scale of ${service} set to ${n}`);
  }

  setStopped(services: string[], stopped: boolean): void {
    const set = new Set(this.state.stopped);
    for (const s of services)
      if (stopped) set.add(s);
      else set.delete(s);
    this.state.stopped = [...set].sort();
    this.flushOrThrow(`${services.join(', ')} ${stopped ? 'stopped' : 'started'}`);
  }

  /** Stops retrying (the daemon is closing). */
  close(): void {
    this.writer.close();
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

  private flushOrThrow(done: string): void {
    if (this.flush()) return;
    throw new HerdError(
      `${done}, but the daemon could not record it: ${this.writer.failure}; the stack keeps running ` +
        'as asked and herd retries the write (a daemon that dies before it succeeds forgets ' +
        'this change)',
      'STATE',
    );
  }

  /** Writes the state; false (reported, retried later) when the write failed. */
  private flush(): boolean {
    return this.writer.flush();
  }
}
