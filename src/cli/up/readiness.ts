// When is a started stack "up" (`up -d`) or "ready" (`up --wait`)? Judged from what `ps` reports,
// so the same rules hold for a stack in this process and one in a detached daemon.
import type { PsResponse } from '../../daemon/api-types.ts';
import type { ReplicaInfo } from '../../engine/events.ts';

export type WaitMode = 'started' | 'ready';

export interface Readiness {
  done: boolean;
  /** Replicas that can never become ready (exited for good with a failure). */
  failed: string[];
  /** What is still awaited, for the timeout message. */
  pending: string[];
}

function describe(r: ReplicaInfo): string {
  const short = r.name.slice(r.name.lastIndexOf(`-${r.service}-`) + 1);
  if (r.state === 'running' && r.health === 'unhealthy') return `${short} is unhealthy`;
  if (r.state === 'running' && r.health === 'starting') return `${short} is not healthy yet`;
  if (r.state === 'running' && r.ready === false) return `${short} is not listening yet`;
  return `${short} is ${r.state}${r.reason ? ` (${r.reason})` : ''}`;
}

function whyExited(r: ReplicaInfo): string {
  const exit = r.lastExit;
  if (exit?.startError) return `could not start: ${exit.startError}`;
  if (exit) return `exited with code ${exit.exitCode}`;
  return `was not started${r.reason ? `: ${r.reason}` : ''}`;
}

/** `services`: what `up` started (with their dependencies); stopped services are not awaited. */
export function judge(ps: PsResponse, services: string[], mode: WaitMode): Readiness {
  const failed: string[] = [];
  const pending: string[] = [];
  for (const name of services) {
    const summary = ps.services.find((s) => s.name === name);
    if (!summary || summary.stopped) continue;
    for (let i = 1; i <= summary.scale; i++) {
      const r = ps.replicas.find((x) => x.service === name && x.index === i);
      if (!r) {
        pending.push(`${name}-${i} is not created yet`);
        continue;
      }
      if (r.state === 'exited') {
        const exit = r.lastExit;
        const ok = exit && exit.startError === undefined && exit.exitCode === 0;
        // A one-shot that completed counts as ready; any other end is a failure.
        if (!ok && mode === 'ready') failed.push(`${name}-${i} ${whyExited(r)}`);
        continue;
      }
      // A replica that could not even start (command not found, no such image) waiting to try
      // again will fail the same way: --wait says so now, as Compose's start error does, rather
      // than after the whole timeout.
      if (mode === 'ready' && r.state === 'backoff' && r.lastExit?.startError !== undefined) {
        failed.push(`${name}-${i} ${whyExited(r)}`);
        continue;
      }
      const started = r.state !== 'waiting' && !(r.state === 'starting' && r.pid === undefined);
      if (mode === 'started') {
        if (!started) pending.push(describe(r));
        continue;
      }
      // The engine's own verdict (healthy, or listening when it takes traffic) when it gave one.
      const ready =
        r.state === 'running' && (r.ready ?? (r.health === 'none' || r.health === 'healthy'));
      if (!ready) pending.push(describe(r));
    }
  }
  return { done: failed.length === 0 && pending.length === 0, failed, pending };
}
