// Rolling restarts (`herd restart`, a changed definition on apply): each service follows its
// `x-herd.rollout` settings (rollout.ts) — batches of `parallelism` replicas, start-first (a
// successor starts beside the replica and takes its slot once ready) or stop-first. A replacement
// that does not become ready stops the rollout and leaves the running replica in place.
import type { Project } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';
import { formatDelay } from './backoff.ts';
import type { EventHub, Outcome } from './event-hub.ts';
import { listenTarget } from './listening.ts';
import { describeExit } from './restart-policy.ts';
import {
  restartOrder,
  rolloutBatches,
  rolloutSettings,
  takesTraffic,
  type RolloutSettings,
} from './rollout.ts';
import { newSlot, shortName, type Slot } from './slot.ts';
import type { ServiceState, Supervisor } from './supervisor.ts';

/** `herd stop -t N` / `down -t` / `restart -t`: the grace period for this stop, in place of each
 * service's stop_grace_period. */
export interface StopOptions {
  timeoutMs?: number;
}

/** A service's rollout settings plus the grace period this restart was given. */
type RollPlan = RolloutSettings & { stopTimeoutMs?: number };

export class Rollouts {
  constructor(
    private readonly sup: Supervisor,
    private readonly hub: EventHub,
    private readonly project: () => Project,
    private readonly up: (names: string[]) => Promise<void>,
  ) {}

  /** Rejects, leaving the replica being replaced in place, when a replacement does not become
   * ready. A stopped service is started, as `docker compose restart` does. */
  async restartServices(names?: string[], opts: StopOptions = {}): Promise<void> {
    for (const n of names ?? []) this.sup.state(n);
    const project = this.project();
    const order = restartOrder(project, names ?? Object.keys(project.services));
    for (const name of order) {
      const st = this.sup.state(name);
      if (!st.active) await this.up([name]);
      else await this.rollService(st, opts.timeoutMs);
    }
  }

  private async rollService(st: ServiceState, stopTimeoutMs?: number): Promise<void> {
    const settings: RollPlan = { ...rolloutSettings(st.service), stopTimeoutMs };
    const name = st.service.name;
    const indexes = [...st.slots.keys()].filter((i) => i <= st.desired);
    const each = settings.parallelism === 1 ? 'one at a time' : `${settings.parallelism} at a time`;
    this.sup.notice(
      { service: name },
      `restarting ${name} (${indexes.length} replicas, ${each}, ${settings.order})`,
    );
    for (const batch of rolloutBatches(indexes, settings.parallelism)) {
      const results = await Promise.allSettled(batch.map((i) => this.restartSlot(st, i, settings)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    this.sup.notice({ service: name }, `${name} restarted`);
  }

  private async restartSlot(st: ServiceState, index: number, settings: RollPlan): Promise<void> {
    const slot = st.slots.get(index);
    if (!slot || !st.active) return;
    if (slot.successor) {
      throw new HerdError(
        `${shortName(slot)} is already being restarted; wait for that to finish`,
        'CONFLICT',
      );
    }
    if (slot.phase === 'running' && settings.order === 'start-first') {
      return this.replaceStartFirst(st, slot, settings);
    }
    this.sup.notice(slot, `${shortName(slot)}: restarting (stop-first)`);
    await this.sup.stop(slot, 'restart', settings.stopTimeoutMs);
    const needReady = takesTraffic(st.service) || !!st.service.healthcheck?.test;
    const outcome = await this.waitReady(st, slot, settings.readyTimeoutMs, needReady, () => false);
    if (!outcome.ok) {
      throw new HerdError(
        `restart of ${shortName(slot)} failed: ${outcome.reason}; the rollout of ${st.service.name} stopped there`,
        'ROLLOUT_FAILED',
      );
    }
  }

  /** Successor first, then drain and stop the old replica: the slot never loses capacity. */
  private async replaceStartFirst(st: ServiceState, old: Slot, settings: RollPlan): Promise<void> {
    const label = shortName(old);
    const next = this.successorOf(st, old);
    this.sup.notice(old, `${label}: starting its replacement`);
    this.sup.dispatch(next, { type: 'gate-open', without: [] });
    const gone = () => old.successor !== next;
    const outcome = await this.waitReady(st, next, settings.readyTimeoutMs, true, gone);
    if (!outcome.ok) {
      if (old.successor === next) old.successor = undefined;
      if (next.phase !== 'removed') this.sup.task(next, this.sup.discard(next));
      if (!st.active || this.sup.shuttingDown) {
        throw new HerdError(
          `restart of ${label} was interrupted: ${st.service.name} was stopped`,
          'CONFLICT',
        );
      }
      this.sup.notice(old, `${label}: its replacement ${outcome.reason}; keeping the running one`);
      throw new HerdError(
        `could not restart ${label} of ${st.service.name}: its replacement ${outcome.reason}. ` +
          `${label} keeps running as before; see \`herd logs ${st.service.name}\``,
        'ROLLOUT_FAILED',
      );
    }
    this.sup.notice(old, `${label}: replacement ready, draining and stopping the previous one`);
    await this.sup.stop(old, 'replaced', settings.stopTimeoutMs);
    if (st.slots.get(old.index) !== next) {
      throw new HerdError(
        `restart of ${label} was interrupted (${old.info.reason ?? 'stopped'})`,
        'CONFLICT',
      );
    }
  }

  /** A new slot beside `old`, under the temporary name `<name>-next`. */
  private successorOf(st: ServiceState, old: Slot): Slot {
    const next = newSlot(this.project().name, st.service.name, old.index);
    const temp = `${old.info.name}-next`;
    next.info.name = temp;
    next.runtimeName = old.spec?.name === temp ? old.info.name : temp;
    next.info.restarts = old.info.restarts;
    next.successorOf = old;
    old.successor = next;
    this.sup.emitReplica(next);
    return next;
  }

  /** Waits until a (re)started replica is ready (running, and healthy with a healthcheck or
   * accepting connections when its service takes traffic) or, without `needReady`, running;
   * `gone()` ends the wait early. */
  private waitReady(
    st: ServiceState,
    slot: Slot,
    timeoutMs: number,
    needReady: boolean,
    gone: () => boolean,
  ): Promise<Outcome> {
    const within = formatDelay(timeoutMs);
    return this.hub.waitOutcome(
      () => (gone() ? { ok: false, reason: 'was stopped' } : outcomeOf(slot, needReady)),
      timeoutMs,
      () => {
        const target = listenTarget(st.service, slot.info);
        if (!needReady || st.service.healthcheck?.test || !target) {
          return `did not become ${needReady ? 'ready' : 'running'} within ${within}`;
        }
        if (slot.info.state !== 'running') return `did not start within ${within}`;
        return (
          `did not accept connections on ${target.host}:${target.port} within ${within} ` +
          '(does it listen on $PORT? a healthcheck can tell herd when it is ready)'
        );
      },
    );
  }
}

/** Is a (re)started replica ready yet, or has it failed? */
function outcomeOf(slot: Slot, needReady: boolean): Outcome | undefined {
  if (slot.ready || (!needReady && slot.phase === 'running')) return { ok: true };
  const { lastExit, health, healthOutput } = slot.info;
  const phase = slot.phase;
  if (phase === 'removed') return { ok: false, reason: 'was removed' };
  if (phase === 'exited' || phase === 'backoff') {
    const how = lastExit ? describeExit(lastExit) : (slot.info.reason ?? phase);
    return { ok: false, reason: `exited before it was ready (${how})` };
  }
  if (health === 'unhealthy' && phase === 'running') {
    return { ok: false, reason: `is unhealthy${healthOutput ? `: ${healthOutput}` : ''}` };
  }
  return undefined;
}
