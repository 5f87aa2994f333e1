// Counts replica restarts by cause from the engine's events: the cause is what sent the replica
// into backoff (its exit, an OOM kill, a failing healthcheck), counted when the restart happens.
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';

export type RestartCause = 'crashed' | 'exited' | 'oom' | 'unhealthy';

export class RestartCounter {
  /** `service\0cause` → restarts seen by this daemon. */
  readonly counts = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  private readonly cause = new Map<string, RestartCause>();

  /** Feed every engine event. */
  readonly listener = (e: EngineEvent): void => {
    if (e.type !== 'replica') return;
    const r = e.replica;
    if (r.state === 'backoff') this.cause.set(r.name, causeOf(r));
    const before = this.seen.get(r.name);
    this.seen.set(r.name, r.restarts);
    if (r.state === 'removed') {
      this.seen.delete(r.name);
      this.cause.delete(r.name);
    }
    if (before === undefined || r.restarts <= before) return;
    const key = `${r.service}\0${this.cause.get(r.name) ?? causeOf(r)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + (r.restarts - before));
  };
}

function causeOf(r: ReplicaInfo): RestartCause {
  if (r.lastExit?.oomKilled) return 'oom';
  if (r.reason?.includes('unhealthy')) return 'unhealthy';
  return r.lastExit?.exitCode === 0 ? 'exited' : 'crashed';
}
