// The STATUS column of `herd ps`, worded as `docker compose ps` words it.
import type { ReplicaInfo } from '../../engine/events.ts';
import { humanDuration } from './duration.ts';

type StatusInput = Pick<
  ReplicaInfo,
  'state' | 'health' | 'startedAt' | 'finishedAt' | 'lastExit' | 'reason' | 'paused'
>;

function healthSuffix(health: ReplicaInfo['health']): string {
  switch (health) {
    case 'healthy':
      return ' (healthy)';
    case 'unhealthy':
      return ' (unhealthy)';
    case 'starting':
      return ' (health: starting)';
    default:
      return '';
  }
}

function ago(at: number | undefined, now: number): string {
  return at === undefined ? '' : ` ${humanDuration(now - at)} ago`;
}

/** Exited without ever having run (a dependency failed): Compose calls a container that never
 * ran "Created". A replica of a stopped service (e.g. recovered by a new daemon as stopped) is
 * shown as Compose shows a stopped container: exited. */
function neverStarted(r: StatusInput): boolean {
  return (
    r.state === 'exited' &&
    r.lastExit === undefined &&
    r.startedAt === undefined &&
    r.reason !== 'stopped'
  );
}

/** "Up 5 minutes (healthy)", "Exited (137) 3 seconds ago", "Restarting (1) 2 seconds ago",
 * "Waiting for db (service_healthy)", "Created", … (the reason of a Created replica is in
 * `ps --format json`'s Reason). */
export function formatStatus(r: StatusInput, now: number): string {
  const code = r.lastExit?.exitCode ?? 0;
  if (neverStarted(r)) return 'Created';
  switch (r.state) {
    case 'waiting':
      // The gate words its reason "waiting for db (service_healthy)": no need to say it twice.
      if (r.reason?.startsWith('waiting for ')) return `Waiting ${r.reason.slice(8)}`;
      return r.reason ? `Waiting (${r.reason})` : 'Waiting';
    case 'starting':
      return 'Starting';
    case 'running':
      // As Docker words a paused container.
      if (r.paused) return `Up ${humanDuration(now - (r.startedAt ?? now))} (Paused)`;
      return `Up ${humanDuration(now - (r.startedAt ?? now))}${healthSuffix(r.health)}`;
    case 'stopping':
      return 'Stopping';
    case 'backoff':
      return `Restarting (${code})${ago(r.finishedAt, now)}`;
    case 'exited':
      return `Exited (${code})${ago(r.finishedAt, now)}`;
    case 'removed':
      return 'Removed';
  }
}

/** Compose's one-word State for `--format json`. */
export function composeState(r: StatusInput): string {
  if (neverStarted(r)) return 'created';
  switch (r.state) {
    case 'waiting':
      return 'created';
    case 'running':
      return r.paused ? 'paused' : 'running';
    case 'starting':
    case 'stopping':
      return 'running';
    case 'backoff':
      return 'restarting';
    case 'exited':
      return 'exited';
    case 'removed':
      return 'removing';
  }
}

/** `ps` without -a shows what Compose shows: everything not stopped for good. */
export function isShownByDefault(state: ReplicaInfo['state']): boolean {
  return state !== 'exited' && state !== 'removed';
}
