// The engine's view of health checking: start watching a running replica, stop when it stops.
// Kept behind this small interface so the engine does not depend on how probes are run.
import type { Healthcheck } from '../compose/model.ts';
import type { ReplicaSpec } from '../runtime/types.ts';
import type { Clock } from './clock.ts';
import { HEALTH_DEFAULTS, HealthMonitor } from '../health/monitor.ts';
import { runProbe } from '../health/probe.ts';

export interface HealthWatch {
  stop(): void;
}

export interface HealthWatchArgs {
  check: Healthcheck;
  spec: ReplicaSpec;
  clock: Clock;
  startedAt: number;
  onChange: (status: 'healthy' | 'unhealthy') => void;
}

export type HealthWatchFactory = (args: HealthWatchArgs) => HealthWatch;

export const probeHealthWatch: HealthWatchFactory = ({
  check,
  spec,
  clock,
  startedAt,
  onChange,
}) => {
  const test = check.test;
  if (!test) return { stop() {} };
  const monitor = new HealthMonitor(check, {
    clock,
    startedAt,
    run: (signal) =>
      runProbe(test, {
        env: spec.env,
        cwd: spec.cwd,
        timeoutMs: check.timeoutMs > 0 ? check.timeoutMs : HEALTH_DEFAULTS.timeoutMs,
        uid: spec.uid,
        gid: spec.gid,
        signal,
      }),
    onChange: (status) => onChange(status),
  });
  monitor.start();
  return { stop: () => monitor.stop() };
};
