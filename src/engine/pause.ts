// `herd pause`/`unpause` and `herd rm` over a service's replicas: which replicas each verb acts
// on, fed to the replica state machine (pause-step.ts; `forget` in the machine's table).
import type { Slot } from './slot.ts';
import type { Supervisor } from './supervisor.ts';

function slotsOf(sup: Supervisor, name: string): Slot[] {
  const st = sup.state(name);
  return [...st.slots.values()].flatMap((s) => (s.successor ? [s, s.successor] : [s]));
}

/** Pauses (or unpauses) every running replica of the services; the names of those it changed,
 * once the runtime has done it. */
export async function pauseReplicas(
  sup: Supervisor,
  names: string[],
  paused: boolean,
): Promise<string[]> {
  for (const name of names) sup.state(name);
  const changed: string[] = [];
  const done: Promise<void>[] = [];
  for (const name of names) {
    for (const slot of slotsOf(sup, name)) {
      if (slot.phase !== 'running' || Boolean(slot.paused) === paused) continue;
      sup.dispatch(slot, { type: paused ? 'pause' : 'unpause' });
      if (Boolean(slot.paused) !== paused) continue;
      changed.push(slot.info.name);
      done.push(sup.frozenDone(slot));
    }
  }
  await Promise.all(done);
  return changed;
}

export interface Forgotten {
  /** Services whose replicas it forgot (stopped now, as after `herd stop`). */
  services: string[];
  /** Replicas that left `ps -a`. */
  removed: string[];
  /** Services left alone because a replica of theirs runs (or is about to). */
  running: string[];
}

/** `herd rm`: forgets the exited replicas of services that have nothing running; such a service
 * is stopped (nothing starts it again until `herd start` or `up`), as Compose's rm leaves it.
 * Resolves once the runtime removed what it kept of them (an exited container). */
export async function forgetExited(
  sup: Supervisor,
  names: string[],
  opts: { volumes: boolean },
): Promise<Forgotten> {
  for (const name of names) sup.state(name);
  const out: Forgotten = { services: [], removed: [], running: [] };
  const removals: Promise<void>[] = [];
  for (const name of names) {
    const slots = slotsOf(sup, name);
    if (slots.some((s) => s.phase !== 'exited' && s.phase !== 'removed')) {
      out.running.push(name);
      continue;
    }
    // A service scaled to zero has nothing to forget and must stay able to wake.
    if (!slots.some((s) => s.phase === 'exited')) continue;
    out.services.push(name);
    const st = sup.state(name);
    st.active = false;
    st.stoppedByUser = true;
    for (const slot of slots) {
      if (slot.phase !== 'exited') continue;
      removals.push(sup.removeLeftovers(slot, opts));
      sup.dispatch(slot, { type: 'forget' });
      out.removed.push(slot.info.name);
    }
  }
  await Promise.all(removals);
  return out;
}
