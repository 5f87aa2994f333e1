// The replica state machine: every state change goes through `transition`, which refuses any
// move not in the table (a bug in the engine, never a user error).
import type { ReplicaState } from './events.ts';

const ALLOWED: Record<ReplicaState, readonly ReplicaState[]> = {
  // Scaled away, stopped, or its dependency failed before it ever started.
  waiting: ['starting', 'exited', 'removed'],
  // Start failed (backoff/exited), started, or stopped while starting.
  starting: ['running', 'backoff', 'exited', 'stopping', 'removed'],
  // removed/waiting: it exited by itself while being drained for a scale-down, a rolling
  // restart (removed: its successor takes the slot) or a dependency restart, before the stop
  // signal was sent. A successor that takes a slot over keeps running under the slot's name.
  running: ['stopping', 'backoff', 'exited', 'removed', 'waiting'],
  // After a stop: done (exited/removed; removed also when replaced by a successor), restarted
  // (unhealthy → backoff), or re-gated (waiting: a stop-first restart, or a dependency with
  // `restart: true` was restarted).
  stopping: ['exited', 'removed', 'backoff', 'waiting', 'starting'],
  backoff: ['starting', 'exited', 'removed', 'waiting'],
  exited: ['waiting', 'starting', 'removed'],
  removed: [],
};

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: ReplicaState,
    readonly to: ReplicaState,
    replica: string,
  ) {
    super(`illegal replica transition ${from} → ${to} for ${replica}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransition(from: ReplicaState, to: ReplicaState): boolean {
  return ALLOWED[from].includes(to);
}

/** Returns `to`, or throws when the move is not allowed. */
export function transition(
  from: ReplicaState,
  to: ReplicaState,
  replica = 'replica',
): ReplicaState {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, replica);
  return to;
}
