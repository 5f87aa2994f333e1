// `herd pause` / `herd unpause` in the replica state machine. A paused replica stays `running`
// (its process is alive, frozen) but leaves the pool at once, and its health watch stops, so it is
// neither health-killed nor restarted while paused; unpause thaws it and watches it again, so it
// rejoins the pool as a new start would (healthy, or accepting connections).
import type { Slot } from './slot.ts';
import { leavePool, type Step } from './replica-steps.ts';

export function pauseStep(slot: Slot): Step {
  if (slot.paused || !slot.handle) return { actions: [] };
  const leave = leavePool(slot, 'paused');
  return {
    facts: { ...leave.facts, paused: true, info: { ...leave.facts.info, paused: true } },
    actions: [...leave.actions, { do: 'unwatch' }, { do: 'pause' }, { do: 'emit' }],
  };
}

export function unpauseStep(slot: Slot): Step {
  if (!slot.paused) return { actions: [] };
  return {
    facts: { paused: false, info: { paused: undefined } },
    actions: [{ do: 'resume' }, { do: 'emit' }, { do: 'watch' }],
  };
}

/** Health and listening answers that were under way when it was paused change nothing. */
export function whilePaused(slot: Slot, step: () => Step): Step {
  return slot.paused ? { actions: [] } : step();
}
