// The replica state machine's answer to an exit: what the replica becomes depends on why it was
// being stopped (its stop intent), on `herd kill`, and otherwise on its restart policy. Pure, like
// replica-machine.ts, whose table uses it.
import type { Service } from '../compose/model.ts';
import type { ExitInfo } from '../runtime/types.ts';
import { formatDelay, nextBackoff } from './backoff.ts';
import {
  leavePool,
  type Action,
  type Facts,
  type MachineContext,
  type Step,
} from './replica-steps.ts';
import { decideRestart, describeExit, policyName } from './restart-policy.ts';
import { shortName, type Slot } from './slot.ts';

/** `herd kill` with these is a manual stop in Docker (no restart): see Engine.killServices. */
export function isManualKill(
  signal: NodeJS.Signals,
  service: Pick<Service, 'stopSignal'>,
): boolean {
  return signal === 'SIGKILL' || signal === service.stopSignal;
}

/** The old replica of a start-first restart is gone (or was never running): its successor takes
 * the slot over when it runs; otherwise the slot simply starts again. */
export function handOverStep(slot: Slot, ctx: MachineContext): Step {
  if (ctx.successorRunning && !ctx.shuttingDown) {
    return { to: 'removed', reason: 'replaced', actions: [{ do: 'hand-over' }] };
  }
  return {
    ...(slot.phase === 'waiting' ? {} : { to: 'waiting' as const }),
    reason: 'restarting: its replacement is gone',
    actions: [{ do: 'drop-successor' }],
  };
}

/** The restart policy decides: back off and start again, or stay exited. */
function policyStep(
  slot: Slot,
  exit: ExitInfo,
  ctx: MachineContext,
  killedByUser: boolean,
  unhealthy: boolean,
): Step {
  const policy = ctx.service.restart;
  const uptimeMs =
    slot.info.startedAt !== undefined && exit.startError === undefined
      ? ctx.now - slot.info.startedAt
      : 0;
  const decision = decideRestart({
    policy,
    exit,
    attempts: slot.attempts,
    uptimeMs,
    // Docker marks a killed container manually stopped: unless-stopped leaves it down.
    stoppedByUser:
      ctx.shuttingDown || !ctx.active || (killedByUser && policy.condition === 'unless-stopped'),
    unhealthy,
  });
  const what =
    exit.startError !== undefined
      ? `could not start: ${exit.startError}`
      : unhealthy
        ? `was unhealthy and stopped with code ${exit.exitCode}`
        : exit.codeUnknown
          ? 'exited; its exit code is unknown (it was adopted from a herd daemon that died, ' +
            'so herd is not its parent): counted as a failure'
          : `exited with code ${exit.exitCode}${exit.oomKilled ? ' (out of memory)' : ''}`;
  if (!decision.restart) {
    const tail = decision.gaveUp ? `; ${decision.reason}` : '';
    return {
      to: 'exited',
      reason: decision.reason,
      facts: { attempts: decision.attempts },
      actions: [{ do: 'notice', message: `${shortName(slot)} ${what}${tail}` }],
    };
  }
  // deploy.restart_policy waits the same delay every time (Swarm); restart: backs off (Docker).
  const delay =
    policy.fixedDelay && policy.delayMs !== undefined
      ? policy.delayMs
      : nextBackoff({ previousMs: slot.lastDelayMs, uptimeMs, baseMs: policy.delayMs });
  return {
    to: 'backoff',
    reason: `${describeExit(exit)}, restarting in ${formatDelay(delay)}`,
    facts: {
      attempts: decision.attempts,
      lastDelayMs: delay,
      info: { restartAt: ctx.now + delay },
    },
    actions: [
      {
        do: 'notice',
        message: `${shortName(slot)} ${what}, restarting in ${formatDelay(delay)} (restart: ${policyName(policy)})`,
      },
      { do: 'schedule-restart', delayMs: delay },
    ],
  };
}

/** Why it was stopped decides where it goes. */
function intentStep(slot: Slot, exit: ExitInfo, ctx: MachineContext): Step {
  const intent = slot.stopIntent;
  const killed = slot.killedWith;
  if (slot.successorOf) {
    // A successor that exits before it took over is simply not used (rolling.ts reports it).
    return {
      to: 'exited',
      reason: intent === 'stop' ? 'stopped' : describeExit(exit),
      actions: [],
    };
  }
  switch (intent) {
    case 'scale':
      return {
        to: 'removed',
        reason: 'scaled down',
        actions: [{ do: 'remove' }, { do: 'drop-successor' }],
      };
    case 'replaced':
      return handOverStep(slot, ctx);
    case 'stop':
      return { to: 'exited', reason: 'stopped', actions: [{ do: 'drop-successor' }] };
    case 'dependency':
      return { to: 'waiting', reason: 'restarting: a dependency was restarted', actions: [] };
    case 'restart':
      return { to: 'waiting', reason: 'restarting', actions: [] };
  }
  if (killed && isManualKill(killed, ctx.service)) {
    // As `docker kill`: the restart policy does not bring it back (Engine.killServices).
    return {
      to: 'exited',
      reason: `killed (${killed})`,
      actions: [
        {
          do: 'notice',
          message: `${shortName(slot)} exited with code ${exit.exitCode} (killed with ${killed})`,
        },
      ],
    };
  }
  return policyStep(slot, exit, ctx, killed !== undefined, intent === 'unhealthy');
}

/** The replica exited (or never started): it leaves the pool, its resources are released, and
 * its stop intent decides the rest. */
export function exitStep(slot: Slot, e: { exit: ExitInfo }, ctx: MachineContext): Step {
  const { exit } = e;
  const leave = leavePool(slot, exit.startError ?? `exited (${describeExit(exit)})`);
  const base: Facts = {
    ...leave.facts,
    handle: undefined,
    stopIntent: undefined,
    stopGraceMs: undefined,
    killedWith: undefined,
    info: { ...leave.facts.info, pid: undefined, lastExit: exit, finishedAt: ctx.now },
  };
  const next = intentStep(slot, exit, ctx);
  const actions: Action[] = [{ do: 'unwatch' }, ...leave.actions, ...next.actions];
  return {
    ...next,
    facts: { ...base, ...next.facts, info: { ...base.info, ...next.facts?.info } },
    actions,
  };
}
