// Whether an exited replica is restarted, and why — Compose's `restart:` and Swarm's
// `deploy.restart_policy` (condition, max_attempts, window). Pure: the engine supplies the facts.
import type { RestartPolicy } from '../compose/model.ts';
import type { ExitInfo } from '../runtime/types.ts';

export interface RestartInput {
  policy: RestartPolicy;
  exit: ExitInfo;
  /** Restarts so far that count against max_attempts. */
  attempts: number;
  /** How long the replica ran before this exit. */
  uptimeMs: number;
  /** Stopped on purpose (herd stop, scale-down, shutdown): never restarted. */
  stoppedByUser: boolean;
  /** herd stopped it because it turned unhealthy: a failure whatever its exit code, as
   * Kubernetes treats a failed liveness probe and Swarm an unhealthy task. */
  unhealthy?: boolean;
}

export interface RestartDecision {
  restart: boolean;
  /** attempts after this decision (the engine stores it). */
  attempts: number;
  /** For ps/logs: why it is (not) restarted. */
  reason: string;
  /** max_attempts is used up. */
  gaveUp?: boolean;
}

export function describeExit(exit: ExitInfo): string {
  if (exit.startError !== undefined) return exit.startError;
  if (exit.oomKilled) return `killed: memory limit exceeded (exit ${exit.exitCode})`;
  if (exit.codeUnknown) return 'exit code unknown (adopted; counted as a failure)';
  if (exit.signal) return `exit ${exit.exitCode} (${exit.signal})`;
  return `exit ${exit.exitCode}`;
}

export function policyName(policy: RestartPolicy): string {
  if (policy.condition === 'on-failure' && policy.maxAttempts !== undefined) {
    return `on-failure:${policy.maxAttempts}`;
  }
  return policy.condition;
}

export function decideRestart(input: RestartInput): RestartDecision {
  const { policy, exit, uptimeMs, stoppedByUser, unhealthy } = input;
  const what = unhealthy ? `unhealthy, stopped (${describeExit(exit)})` : describeExit(exit);
  // Swarm's window: a restart that stayed up for `window` succeeded and does not count.
  const attempts =
    policy.windowMs !== undefined && uptimeMs >= policy.windowMs ? 0 : input.attempts;
  if (stoppedByUser) return { restart: false, attempts, reason: 'stopped' };
  if (policy.condition === 'no') {
    return { restart: false, attempts, reason: `${what} (restart: no)` };
  }
  if (policy.condition === 'on-failure' && exit.exitCode === 0 && !unhealthy) {
    return {
      restart: false,
      attempts,
      reason: `completed: exit 0 (restart: ${policyName(policy)})`,
    };
  }
  if (policy.maxAttempts !== undefined && attempts >= policy.maxAttempts) {
    return {
      restart: false,
      gaveUp: true,
      attempts,
      reason: `gave up after ${attempts} restart${attempts === 1 ? '' : 's'}: ${what}`,
    };
  }
  return {
    restart: true,
    attempts: attempts + 1,
    reason: `${what}, restarting (restart: ${policyName(policy)})`,
  };
}
