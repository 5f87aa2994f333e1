// The reconciler: level-triggered, as Kubernetes' controllers are. After every event it compares
// what is desired (services taken up, their scale) with what is observed (the replica slots and
// their phases) and turns the difference into events for the replicas: a slot created and gated
// for each missing replica, a scale-down stop for each one too many. A pass that runs while
// another is under way (an event raised by the pass itself) is folded into one more pass.
import { gateFor } from './gate.ts';
import { newSlot, type Slot } from './slot.ts';
import type { ServiceState, Supervisor } from './supervisor.ts';

export class Reconciler {
  private busy = false;
  private again = false;

  constructor(
    private readonly sup: Supervisor,
    private readonly projectName: () => string,
  ) {}

  reconcile(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        this.pass();
      } while (this.again);
    } finally {
      this.busy = false;
    }
  }

  private pass(): void {
    if (this.sup.shuttingDown) return;
    for (const st of this.sup.services.values()) {
      if (!st.active) continue;
      for (let i = 1; i <= st.desired; i++) {
        const slot = this.ensureSlot(st, i);
        if (slot.phase === 'waiting') this.gate(st, slot);
      }
      for (const slot of [...st.slots.values()]) {
        if (slot.index > st.desired && slot.stopIntent !== 'scale' && slot.phase !== 'removed')
          this.sup.task(slot, this.sup.stop(slot, 'scale'));
      }
    }
  }

  private ensureSlot(st: ServiceState, index: number): Slot {
    let slot = st.slots.get(index);
    if (!slot) {
      slot = newSlot(this.projectName(), st.service.name, index);
      st.slots.set(index, slot);
      this.sup.emitReplica(slot);
    }
    return slot;
  }

  private gate(st: ServiceState, slot: Slot): void {
    const gate = gateFor(st.service, (name) => this.sup.services.get(name));
    if (gate.kind === 'ok')
      this.sup.dispatch(slot, { type: 'gate-open', without: gate.without ?? [] });
    else if (gate.kind === 'wait')
      this.sup.dispatch(slot, { type: 'gate-wait', reason: gate.reason });
    else this.sup.dispatch(slot, { type: 'gate-failed', reason: gate.reason });
  }
}
