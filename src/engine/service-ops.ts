// The engine's bookkeeping of one service's slots, kept apart from the verbs in engine.ts: a new
// service's state, a service held stopped, whether its replicas have all been started, the checks
// of a requested scale, the order services stop in, and removing services gone from the file.
import type { Project, Service } from '../compose/model.ts';
import { checkScaleLimit } from '../compose/scale-limit.ts';
import { processCommand } from '../runtime/env.ts';
import type { Runtime } from '../runtime/types.ts';
import { HerdError } from '../util/errors.ts';
import type { Definitions } from './definitions.ts';
import { dependencyDepths, dependencyOrder } from './deps.ts';
import type { ReplicaInfo } from './events.ts';
import { newSlot, snapshot, type Slot } from './slot.ts';
import type { ServiceState, Supervisor } from './supervisor.ts';

export function addServiceState(sup: Supervisor, service: Service): ServiceState {
  const st: ServiceState = {
    service,
    desired: service.scale,
    active: false,
    stoppedByUser: false,
    scaleOverridden: false,
    slots: new Map(),
  };
  sup.services.set(service.name, st);
  return st;
}

/** Recorded as stopped: its replicas show as exited ("stopped") and do not start. */
export function holdStopped(sup: Supervisor, project: string, st: ServiceState): void {
  st.active = false;
  st.stoppedByUser = true;
  for (let i = 1; i <= st.desired; i++) {
    let slot = st.slots.get(i);
    if (!slot) {
      slot = newSlot(project, st.service.name, i);
      st.slots.set(i, slot);
    }
    sup.dispatch(slot, { type: 'hold' });
  }
}

/** Every desired replica of the service has been started, or failed for good. */
export function settled(st: ServiceState): boolean {
  for (let i = 1; i <= st.desired; i++) {
    const slot = st.slots.get(i);
    if (!slot) return false;
    if (slot.phase === 'waiting' || (slot.phase === 'starting' && !slot.everStarted)) return false;
  }
  return true;
}

export function checkScale(sup: Supervisor, service: string, n: number): ServiceState {
  const st = sup.state(service);
  if (!Number.isInteger(n) || n < 0) {
    throw new HerdError(
      `invalid scale for ${service}: ${n} (expected a whole number ≥ 0)`,
      'INVALID_ARGUMENT',
    );
  }
  checkScaleLimit(st.service, n);
  return st;
}

/** The services of `wanted` grouped by dependency depth, deepest (dependants) first: each group
 * stops together, before what it depends on. */
export function stopLevels(project: Project, wanted: Set<string>): string[][] {
  const all = Object.keys(project.services);
  const depth = dependencyDepths(project, dependencyOrder(project, all));
  const levels = [...new Set([...wanted].map((n) => depth.get(n) ?? 0))].sort((a, b) => b - a);
  return levels.map((level) => [...wanted].filter((n) => (depth.get(n) ?? 0) === level));
}

/** Services gone from the file are drained and stopped, dependants first. */
export async function removeServices(
  sup: Supervisor,
  definitions: Definitions,
  before: Project,
  removed: string[],
): Promise<void> {
  const depth = dependencyDepths(before, dependencyOrder(before, Object.keys(before.services)));
  const order = [...removed].sort((a, b) => (depth.get(b) ?? 0) - (depth.get(a) ?? 0));
  for (const name of order) {
    const st = sup.state(name);
    sup.notice({ service: name }, `${name} is no longer in the compose file: stopping it`);
    st.active = false;
    await Promise.all([...st.slots.values()].map((slot) => sup.stop(slot, 'scale')));
    sup.services.delete(name);
    definitions.forget(name);
  }
}

/** Every replica, by service and number; a successor during a rolling restart follows the
 * replica it replaces. */
export function listReplicas(services: Iterable<ServiceState>): ReplicaInfo[] {
  const out: ReplicaInfo[] = [];
  for (const st of services) {
    for (const slot of [...st.slots.values()].sort((a, b) => a.index - b.index)) {
      out.push(withHealthLog(slot));
      if (slot.successor) out.push(withHealthLog(slot.successor));
    }
  }
  return out;
}

/** Refuses up front what can never run, with what to do about it. */
export function checkRunnable(
  runtime: Runtime | ((service: Service) => Runtime),
  service: Service,
): void {
  const kind = typeof runtime === 'function' ? runtime(service).kind : runtime.kind;
  if (kind === 'process') processCommand(service);
}

export function allSlots(st: ServiceState): Slot[] {
  return [...st.slots.values()].flatMap((s) => (s.successor ? [s, s.successor] : [s]));
}

export function withHealthLog(slot: Slot): ReplicaInfo {
  const info = snapshot(slot.info);
  const log = slot.health?.log() ?? [];
  if (log.length > 0) info.healthLog = log;
  return info;
}
