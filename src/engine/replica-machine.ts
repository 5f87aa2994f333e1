// The replica state machine: one table of (phase, event) → (next phase, facts, actions). It is
// pure: it reads a slot and the context, and says what changes and what to do; Supervisor applies
// the facts and carries out the actions (start a process, send a signal, set a timer, …), whose
// results come back as further events. An event that a phase does not list is ignored (a stale
// answer from a replica's earlier life); docs/ARCHITECTURE.md draws the table.
import type { ReplicaInfo } from './events.ts';
import type { Phase, Slot, StopIntent } from './slot.ts';
import { exitStep, handOverStep } from './exit-step.ts';
import { pauseStep, unpauseStep, whilePaused } from './pause-step.ts';
import {
  leavePool,
  type Action,
  type Facts,
  type MachineContext,
  type ReplicaEvent,
  type Step,
} from './replica-steps.ts';

export type { Action, Facts, MachineContext, ReplicaEvent, Step };

type Handler<E extends ReplicaEvent = ReplicaEvent> = (
  slot: Slot,
  event: E,
  ctx: MachineContext,
) => Step;
type Handlers = { [T in ReplicaEvent['type']]?: Handler<Extract<ReplicaEvent, { type: T }>> };

const IGNORE: Step = { actions: [] };

/** A stop for shutdown or scale-down wins over a restart already under way. */
function strongerIntent(current: StopIntent | undefined, next: StopIntent): StopIntent {
  return current === undefined || next === 'stop' || next === 'scale' ? next : current;
}

function joinPool(slot: Slot): Step {
  if (slot.ready) return IGNORE;
  return {
    facts: { ready: true, info: { ready: true } },
    actions: [{ do: 'announce', ready: true }],
  };
}

function startStep(slot: Slot, notices: string[] = []): Step {
  return {
    to: 'starting',
    facts: { generation: slot.generation + 1 },
    actions: [...notices.map((message) => ({ do: 'notice', message }) as Action), { do: 'start' }],
  };
}

/** A stop of a replica that is not running: what it becomes depends on why it is stopped. */
function stopIdle(slot: Slot, e: { intent: StopIntent }, ctx: MachineContext): Step {
  const cancel: Step = {
    facts: { generation: slot.generation + 1 },
    actions: [{ do: 'cancel-timer' }],
  };
  const then = (step: Step): Step => ({
    ...step,
    facts: { ...cancel.facts, ...step.facts },
    actions: [...cancel.actions, ...step.actions],
  });
  switch (e.intent) {
    case 'replaced':
      return then(handOverStep(slot, ctx));
    case 'restart':
      return then(
        slot.phase === 'waiting' ? IGNORE : { to: 'waiting', reason: 'restarting', actions: [] },
      );
    case 'scale':
      return then({
        to: 'removed',
        reason: 'scaled down',
        actions: [{ do: 'remove' }, { do: 'drop-successor' }],
      });
    default:
      return then({
        ...(slot.phase === 'exited' ? {} : { to: 'exited' as Phase, reason: 'stopped' }),
        actions: [{ do: 'drop-successor' }],
      });
  }
}

/** A stop while the replica runs: drain it first when it is in the pool (not when it left it for
 * being unhealthy), then signal it. */
function stopRunning(slot: Slot, e: { intent: StopIntent; graceMs?: number }): Step {
  const facts: Facts = {
    stopIntent: strongerIntent(slot.stopIntent, e.intent),
    stopGraceMs: e.graceMs,
  };
  if (slot.ready && e.intent !== 'unhealthy') {
    // The drainer takes it out of the pool itself (synchronously), then waits for in-flight
    // requests; listeners hear `unready` right after.
    const leave = leavePool(slot, 'draining');
    return {
      to: 'draining',
      facts: { ...facts, ...leave.facts },
      actions: [{ do: 'drain' }, ...leave.actions],
    };
  }
  const leave = leavePool(slot, 'stopping');
  return {
    to: 'stopping',
    reason: 'stopping',
    facts: { ...facts, ...leave.facts },
    actions: [...leave.actions, { do: 'unwatch' }, { do: 'signal-stop' }],
  };
}

/** Only the intent is recorded: the replica is stopped once it started, or is stopping already. */
function recordStop(slot: Slot, e: { intent: StopIntent; graceMs?: number }): Step {
  return {
    facts: {
      stopIntent: strongerIntent(slot.stopIntent, e.intent),
      stopGraceMs: e.graceMs ?? slot.stopGraceMs,
    },
    actions: [],
  };
}

function onStarted(
  slot: Slot,
  e: Extract<ReplicaEvent, { type: 'started' }>,
  ctx: MachineContext,
): Step {
  const check = ctx.service.healthcheck;
  const info: Partial<ReplicaInfo> = {
    pid: e.handle.pid,
    startedAt: ctx.now,
    finishedAt: undefined,
    healthOutput: undefined,
    paused: undefined,
    health: check?.test ? 'starting' : 'none',
    ...(e.adoptedPorts?.port !== undefined ? { port: e.adoptedPorts.port } : {}),
    ...(e.adoptedPorts?.ports ? { ports: e.adoptedPorts.ports } : {}),
  };
  const facts: Facts = {
    handle: e.handle,
    everStarted: true,
    paused: false,
    info,
    ...(e.adoptedPorts?.spec ? { spec: e.adoptedPorts.spec } : {}),
  };
  if (slot.stopIntent) {
    return { to: 'stopping', reason: 'stopping', facts, actions: [{ do: 'signal-stop' }] };
  }
  if (!e.adopted) return { to: 'running', facts, actions: [{ do: 'watch' }] };
  return {
    to: 'running',
    reason: 'adopted: it was already running',
    facts,
    actions: [
      { do: 'notice', message: `${slot.service}-${slot.index} was already running: adopted it` },
      { do: 'watch' },
    ],
  };
}

function onHealth(
  slot: Slot,
  e: Extract<ReplicaEvent, { type: 'health' }>,
  ctx: MachineContext,
): Step {
  const info = { health: e.status, healthOutput: e.output?.trim() || undefined };
  const emit: Action = { do: 'emit' };
  if (slot.phase === 'draining') return { facts: { info }, actions: [emit] };
  if (e.status === 'healthy') {
    const join = joinPool(slot);
    return {
      facts: { ...join.facts, info: { ...info, ...join.facts?.info } },
      actions: [emit, ...join.actions],
    };
  }
  const leave = leavePool(slot, 'unhealthy');
  const actions: Action[] = [emit, ...leave.actions];
  const svc = ctx.service;
  // A successor that turns unhealthy fails its rolling restart instead (rolling.ts).
  if (!slot.successorOf && svc.herd.healUnhealthy && svc.restart.condition !== 'no') {
    actions.push(
      { do: 'notice', message: `${slot.service}-${slot.index} is unhealthy, restarting it` },
      { do: 'stop-self', intent: 'unhealthy' },
    );
  }
  return { facts: { ...leave.facts, info: { ...info, ...leave.facts.info } }, actions };
}

function onKill(slot: Slot, e: Extract<ReplicaEvent, { type: 'kill' }>): Step {
  if (!slot.handle) return IGNORE;
  return { facts: { killedWith: e.signal }, actions: [{ do: 'kill', signal: e.signal }] };
}

/** SIGKILL at once, as a stop (the second Ctrl-C). */
function abort(slot: Slot): Step {
  if (!slot.handle) return recordStop(slot, { intent: 'stop' });
  return { facts: { stopIntent: 'stop' }, actions: [{ do: 'kill', signal: 'SIGKILL' }] };
}

const discard: Handler = (slot) => ({
  to: 'removed',
  reason: 'replacement not used',
  facts: { generation: slot.generation + 1 },
  actions: [{ do: 'cancel-timer' }],
});

const idle: Handlers = {
  stop: stopIdle,
  discard,
};

export const TABLE: Record<Phase, Handlers> = {
  waiting: {
    ...idle,
    'gate-open': (slot, e) =>
      startStep(
        slot,
        e.without.map(
          (why) => `${slot.service}-${slot.index} starts without an optional dependency: ${why}`,
        ),
      ),
    'gate-wait': (slot, e) =>
      slot.info.reason === e.reason
        ? IGNORE
        : { facts: { info: { reason: e.reason } }, actions: [{ do: 'emit' }] },
    'gate-failed': (slot, e) => ({
      to: 'exited',
      reason: e.reason,
      actions: [
        { do: 'notice', message: `${slot.service}-${slot.index} not started: ${e.reason}` },
      ],
    }),
    hold: () => ({ to: 'exited', reason: 'stopped', actions: [] }),
  },
  starting: {
    planned: (_slot, e) => ({
      facts: { spec: e.spec, definition: e.definition, info: { port: e.port, ports: e.ports } },
      actions: [],
    }),
    started: onStarted,
    exited: exitStep,
    stop: recordStop,
    abort,
    discard,
  },
  running: {
    health: (slot, e, ctx) => whilePaused(slot, () => onHealth(slot, e, ctx)),
    listening: (slot) => whilePaused(slot, () => joinPool(slot)),
    pause: pauseStep,
    unpause: unpauseStep,
    stop: (slot, e) => stopRunning(slot, e),
    exited: exitStep,
    kill: onKill,
    abort,
  },
  draining: {
    health: onHealth,
    drained: () => ({
      to: 'stopping',
      reason: 'stopping',
      actions: [{ do: 'unwatch' }, { do: 'signal-stop' }],
    }),
    stop: recordStop,
    exited: exitStep,
    kill: onKill,
    abort,
  },
  stopping: {
    stop: recordStop,
    exited: exitStep,
    kill: onKill,
    abort,
  },
  backoff: {
    ...idle,
    abort: (slot) => ({
      to: 'exited',
      reason: 'stopped',
      facts: { generation: slot.generation + 1 },
      actions: [{ do: 'cancel-timer' }],
    }),
    'backoff-elapsed': (slot, _e, ctx) => {
      if (ctx.shuttingDown) return IGNORE;
      const step = startStep(slot);
      return {
        ...step,
        facts: { ...step.facts, info: { restarts: slot.info.restarts + 1 } },
        actions: [...step.actions, { do: 'restart-dependants' }],
      };
    },
    kill: (slot, e) =>
      e.manual && !slot.successorOf
        ? {
            to: 'exited',
            reason: `killed (${e.signal}) while waiting to restart`,
            facts: { generation: slot.generation + 1 },
            actions: [{ do: 'cancel-timer' }],
          }
        : IGNORE,
  },
  exited: {
    ...idle,
    reset: () => ({ to: 'waiting', actions: [] }),
    forget: () => ({
      to: 'removed',
      reason: 'removed (herd rm)',
      actions: [{ do: 'remove' }, { do: 'drop-successor' }],
    }),
  },
  removed: {},
};

/** What `event` does to `slot` in its current phase. */
export function step(slot: Slot, event: ReplicaEvent, ctx: MachineContext): Step {
  const handler = TABLE[slot.phase][event.type] as Handler | undefined;
  return handler ? handler(slot, event, ctx) : IGNORE;
}
