// A service whose every replica waits to restart (crash-looping under its restart policy) serves
// nothing: the balancer holds requests, then answers 502/503. That follows the policy, but the
// user must be told: a warning for `ps` and a notice on `events`, with the time of the next try.
import type { EngineEvent, ReplicaInfo } from '../engine/events.ts';
import type { EngineControl } from './control.ts';
import type { DaemonWarnings } from './warnings.ts';

/** When every replica of the service is in backoff: the earliest next attempt (epoch ms). */
export function downUntil(replicas: ReplicaInfo[], service: string): number | undefined {
  const mine = replicas.filter((r) => r.service === service && r.state !== 'removed');
  if (mine.length === 0 || mine.some((r) => r.state !== 'backoff')) return undefined;
  return Math.min(...mine.map((r) => r.restartAt ?? Infinity));
}

const clock = (t: number) => new Date(t).toISOString().slice(11, 19);

export class OutageWatch {
  private readonly listener = (e: EngineEvent) => {
    if (e.type === 'replica') this.check(e.replica.service, e.at);
  };

  constructor(
    private readonly engine: EngineControl,
    private readonly warnings: DaemonWarnings,
  ) {
    engine.on('event', this.listener);
  }

  close(): void {
    this.engine.off('event', this.listener);
  }

  private check(service: string, now: number): void {
    const key = `backoff:${service}`;
    const replicas = this.engine.replicas();
    const until = downUntil(replicas, service);
    if (until === undefined) {
      // A retry under way is no recovery yet: a crash loop would announce every attempt.
      const mine = replicas.filter((r) => r.service === service);
      if (mine.some((r) => r.state === 'starting') && !mine.some((r) => r.state === 'running'))
        return;
      this.warnings.clear(key, `service ${service} is no longer waiting to restart`, service);
      return;
    }
    const next = Number.isFinite(until)
      ? `; next attempt at ${clock(until)} UTC (in ${Math.max(0, Math.round((until - now) / 100) / 10)} s)`
      : '';
    this.warnings.set(
      key,
      `service ${service} is down: every replica is waiting to restart after exiting${next}; ` +
        'requests to it fail (502/503) until one is back',
      service,
    );
  }
}
