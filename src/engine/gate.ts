// depends_on conditions: may a replica of this service start now, must it wait, or has a
// dependency failed for good?
import type { Service } from '../compose/model.ts';
import type { ReplicaInfo } from './events.ts';

export type Gate =
  /** `without`: optional dependencies (`required: false`) that failed; the replica starts
   * anyway, and the engine says so. */
  | { kind: 'ok'; without?: string[] }
  | { kind: 'wait'; reason: string }
  | { kind: 'fail'; reason: string };

/** What the gate needs to know about a dependency. */
export interface DependencyView {
  service: Service;
  desired: number;
  active: boolean;
  /** Stopped with `herd stop`: its dependants run (and restart) without it, as in Compose. */
  stoppedByUser?: boolean;
  slots: Map<number, { info: ReplicaInfo; everStarted: boolean }>;
}

export function gateFor(
  service: Service,
  lookup: (name: string) => DependencyView | undefined,
): Gate {
  const without: string[] = [];
  for (const [dep, d] of Object.entries(service.dependsOn)) {
    const view = lookup(dep);
    const verdict = view ? check(dep, d.condition, view) : ({ kind: 'ok' } as Gate);
    // A dependency with `required: false` that fails does not hold the dependant back.
    if (verdict.kind === 'fail' && !d.required) {
      without.push(verdict.reason);
      continue;
    }
    if (verdict.kind !== 'ok') return verdict;
  }
  return without.length > 0 ? { kind: 'ok', without } : { kind: 'ok' };
}

function check(dep: string, condition: string, view: DependencyView): Gate {
  const waiting: Gate = { kind: 'wait', reason: `waiting for ${dep} (${condition})` };
  if (view.stoppedByUser) return { kind: 'ok' };
  if (!view.active) return waiting;
  if (condition === 'service_healthy' && !view.service.healthcheck?.test) {
    return {
      kind: 'fail',
      reason: `dependency ${dep} has no healthcheck, so service_healthy can never be met`,
    };
  }
  for (let i = 1; i <= view.desired; i++) {
    const slot = view.slots.get(i);
    if (!slot) return waiting;
    const { state, lastExit, reason } = slot.info;
    if (condition === 'service_completed_successfully') {
      if (state !== 'exited') return waiting;
      if (!lastExit || lastExit.exitCode !== 0) {
        const how = lastExit ? describe(lastExit) : (reason ?? 'did not run');
        return { kind: 'fail', reason: `dependency ${dep} did not complete successfully: ${how}` };
      }
      continue;
    }
    if (state === 'exited' && !(slot.everStarted && lastExit?.exitCode === 0)) {
      const how = lastExit ? describe(lastExit) : (reason ?? 'did not start');
      return { kind: 'fail', reason: `dependency ${dep} failed: ${how}` };
    }
    if (condition === 'service_started') {
      if (state !== 'running' && !(state === 'exited' && slot.everStarted)) return waiting;
    } else if (state !== 'running' || slot.info.health !== 'healthy') {
      return waiting;
    }
  }
  return { kind: 'ok' };
}

function describe(exit: { exitCode: number; startError?: string }): string {
  return exit.startError ?? `exit ${exit.exitCode}`;
}
