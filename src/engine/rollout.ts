// How a service is restarted on purpose (herd restart, a changed definition on apply): the
// settings under `x-herd.rollout` and the plan derived from them. Pure; the engine executes it.
//
// start-first (default for services that take traffic: any `ports`/`expose`): for each replica,
// its successor starts next to it under the temporary name `<name>-next`, and once the successor
// is ready (running, and healthy when it has a healthcheck, else accepting connections on its
// port) the old replica is drained and stopped; the successor then takes the replica's name and
// number over (`<project>-<svc>-<n>`, events: ready under the name, then unready under
// `<name>-next`). Its runtime name (ReplicaSpec .name, a container's name) alternates between
// `<name>` and `<name>-next` from one rolling restart to the next, because two live containers
// cannot share a name.
// stop-first (default otherwise, and always when each replica owns a host port of a published
// range): the replica is drained, stopped, then started again.
import type { Project, Service } from '../compose/model.ts';
import { checkRollout, ownsHostPort, type RolloutOrder } from '../compose/herd-settings.ts';
import { HEALTH_DEFAULTS } from '../health/monitor.ts';
import { HerdError } from '../util/errors.ts';
import { dependencyOrder } from './deps.ts';

export type { RolloutOrder };
export { ownsHostPort };

export interface RolloutSettings {
  /** Replicas restarted at the same time. */
  parallelism: number;
  order: RolloutOrder;
  /** How long a restarted replica may take to become ready before the rollout fails. */
  readyTimeoutMs: number;
}

const MIN_READY_TIMEOUT_MS = 60_000;

/** Services with ports/expose take traffic: a restart must not leave a gap. */
export function takesTraffic(service: Service): boolean {
  return service.ports.length > 0 || service.expose.length > 0;
}

/** Long enough for a healthcheck to pass after its start period, at least a minute. */
export function defaultReadyTimeout(service: Service): number {
  const h = service.healthcheck;
  if (!h?.test) return MIN_READY_TIMEOUT_MS;
  const interval = h.intervalMs > 0 ? h.intervalMs : HEALTH_DEFAULTS.intervalMs;
  const timeout = h.timeoutMs > 0 ? h.timeoutMs : HEALTH_DEFAULTS.timeoutMs;
  const retries = h.retries > 0 ? h.retries : HEALTH_DEFAULTS.retries;
  return Math.max(MIN_READY_TIMEOUT_MS, h.startPeriodMs + (retries + 1) * (interval + timeout));
}

/** Reads `x-herd.rollout`; throws a HerdError naming the service and key for a bad value. The
 * loader already reported bad values with their position; this guards projects built in code. */
export function rolloutSettings(service: Service): RolloutSettings {
  const { value, problems } = checkRollout(service.herd.extra.rollout, service);
  const first = problems[0];
  if (first) {
    const key = first.key === undefined ? '' : `.${first.key}`;
    throw new HerdError(`service "${service.name}": x-herd.rollout${key}: ${first.message}`);
  }
  return {
    parallelism: value.parallelism ?? 1,
    order:
      value.order ??
      (takesTraffic(service) && !ownsHostPort(service) ? 'start-first' : 'stop-first'),
    readyTimeoutMs: value.readyTimeoutMs ?? defaultReadyTimeout(service),
  };
}

/** Replica numbers in batches of `parallelism`, lowest numbers first. */
export function rolloutBatches(indexes: number[], parallelism: number): number[][] {
  const sorted = [...indexes].sort((a, b) => a - b);
  const out: number[][] = [];
  for (let i = 0; i < sorted.length; i += parallelism) out.push(sorted.slice(i, i + parallelism));
  return out;
}

/** The services a restart of `names` touches, in dependency order: the named ones plus, after
 * them, every dependant declared with `depends_on: {<name>: {restart: true}}` (transitively). */
export function restartOrder(project: Project, names: string[]): string[] {
  const wanted = new Set(names);
  for (let grew = true; grew;) {
    grew = false;
    for (const svc of Object.values(project.services)) {
      if (wanted.has(svc.name)) continue;
      if (Object.entries(svc.dependsOn).some(([dep, d]) => d.restart && wanted.has(dep))) {
        wanted.add(svc.name);
        grew = true;
      }
    }
  }
  return dependencyOrder(project, [...wanted]).filter((n) => wanted.has(n));
}
