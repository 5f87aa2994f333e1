// The engine's view of health checking: start watching a running replica, stop when it stops.
// Kept behind this small interface so the engine does not depend on how probes are run.
import type { Healthcheck } from '../compose/model.ts';
import type { ReplicaHandle, ReplicaSpec } from '../runtime/types.ts';
import type { Clock } from '../util/clock.ts';
import { HEALTH_DEFAULTS, HealthMonitor } from '../health/monitor.ts';
import { runProbe, type ProbeResult } from '../health/probe.ts';

export interface HealthWatch {
  stop(): void;
  /** The last probes herd ran (none when the Docker engine runs the healthcheck). */
  log(): ProbeResult[];
}

export interface HealthWatchArgs {
  check: Healthcheck;
  spec: ReplicaSpec;
  clock: Clock;
  startedAt: number;
  /** `output`: what the probe that caused the change printed, when herd ran it. */
  onChange: (status: 'healthy' | 'unhealthy', output?: string) => void;
  /** The running replica: a container's healthcheck runs inside it, so the Docker engine's own
   * status (handle.onHealth) is followed instead of probing from the host. */
  handle?: ReplicaHandle;
}

export type HealthWatchFactory = (args: HealthWatchArgs) => HealthWatch;

/** HERD_PROJECT in a process's environment marks it as one of the project's replicas (the
 * daemon's identity check; anyone counting a project's processes, as acceptance checks 8 and 11
 * do). A probe is a direct child of the daemon like a replica, so with it a probe passed, while
 * it ran, for one more replica: it gets the replica's environment (HERD_SERVICE, HERD_REPLICA,
 * PORT too) without it. */
function probeEnv(env: Record<string, string>): Record<string, string> {
  const { HERD_PROJECT: _marker, ...rest } = env;
  return rest;
}

export const probeHealthWatch: HealthWatchFactory = ({
  check,
  spec,
  clock,
  startedAt,
  onChange,
  handle,
}) => {
  if (handle?.onHealth) {
    let stopped = false;
    handle.onHealth((status) => {
      if (!stopped && status !== 'starting') onChange(status);
    });
    return { stop: () => (stopped = true), log: () => [] };
  }
  const test = check.test;
  if (!test) return { stop() {}, log: () => [] };
  const monitor = new HealthMonitor(check, {
    clock,
    startedAt,
    run: (signal) =>
      runProbe(test, {
        env: probeEnv(spec.env),
        cwd: spec.cwd,
        timeoutMs: check.timeoutMs > 0 ? check.timeoutMs : HEALTH_DEFAULTS.timeoutMs,
        uid: spec.uid,
        gid: spec.gid,
        signal,
      }),
    onChange: (status, last) => onChange(status, last.output),
  });
  monitor.start();
  return { stop: () => monitor.stop(), log: () => monitor.log };
};
