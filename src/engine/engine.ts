// The supervisor: a level-triggered reconciler. Desired state (services taken up, their scale,
// stopped flags) is compared with the observed replicas after every event, and the difference
// becomes starts, stops and restarts. This file holds the service-level verbs (up, stop, scale,
// restart, kill, apply); supervisor.ts the per-replica machinery they drive.
import type { Project } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';
import { dependencyDepths, dependencyOrder } from './deps.ts';
import { describeExit } from './restart-policy.ts';
import { formatDelay } from './backoff.ts';
import {
  restartOrder,
  rolloutBatches,
  rolloutSettings,
  takesTraffic,
  type RolloutSettings,
} from './rollout.ts';
import { planApply } from './service-hash.ts';
import { listenTarget } from './listening.ts';
import { newSlot, shortName, type Slot } from './slot.ts';
import { isManualKill, Supervisor, type EngineOptions, type ServiceState } from './supervisor.ts';
import type { Outcome } from './event-hub.ts';
import { checkScaleLimit } from './scale-limit.ts';

/** `herd stop -t N` / `down -t` / `restart -t`: the grace period for this stop, in place of each
 * service's stop_grace_period. */
export interface StopOptions {
  timeoutMs?: number;
}

/** A service's rollout settings plus the grace period this restart was given. */
type RollPlan = RolloutSettings & { stopTimeoutMs?: number };

export type { EngineOptions } from './supervisor.ts';

export interface UpOptions {
  /** Scale overrides to start from (a restarted daemon's `herd scale` record). */
  scales?: Record<string, number>;
  /** Services that stay stopped (exited, reason "stopped") until startServices or up. */
  stopped?: string[];
}

export class Engine extends Supervisor {
  constructor(project: Project, opts: EngineOptions) {
    super(project, opts);
    for (const service of Object.values(project.services)) rolloutSettings(service);
  }

  /** Starts reconciling the named services (default: all) and their dependencies; resolves once
   * every one of their replicas has been started (or failed), in depends_on order. */
  async up(names?: string[], opts: UpOptions = {}): Promise<void> {
    const order = dependencyOrder(this.current, names ?? Object.keys(this.current.services));
    const held = new Set(opts.stopped ?? []);
    for (const name of held) this.state(name);
    for (const [name, n] of Object.entries(opts.scales ?? {})) this.checkScale(name, n);
    for (const name of order) if (!held.has(name)) this.checkRunnable(this.state(name).service);
    for (const [name, n] of Object.entries(opts.scales ?? {})) {
      const st = this.state(name);
      st.desired = n;
      st.scaleOverridden = true;
    }
    this.shuttingDown = false;
    for (const name of order) {
      const st = this.state(name);
      if (held.has(name)) {
        this.holdStopped(st);
        continue;
      }
      st.active = true;
      st.stoppedByUser = false;
      for (const slot of st.slots.values()) {
        if (slot.info.state === 'exited') this.setState(slot, 'waiting');
      }
    }
    this.reconcile();
    const started = order.filter((n) => !held.has(n));
    await this.waitFor(() => started.every((n) => this.settled(n)));
  }

  startServices(names?: string[]): Promise<void> {
    return this.up(names);
  }

  setScale(service: string, n: number): void {
    const st = this.checkScale(service, n);
    const from = st.desired;
    st.desired = n;
    st.scaleOverridden = true;
    if (from !== n) this.emit({ type: 'scaled', at: this.clock.now(), service, from, to: n });
    this.reconcile();
  }

  /** Stops the named services (default: all), dependants before their dependencies. They stay
   * stopped, whatever their restart policy, until startServices or up. */
  async stopServices(names?: string[], opts: StopOptions = {}): Promise<void> {
    const all = Object.keys(this.current.services);
    const wanted = new Set(names ?? all);
    for (const n of wanted) this.state(n);
    // Dependants stop before what they depend on; services of the same depth stop together.
    const depth = dependencyDepths(this.current, dependencyOrder(this.current, all));
    const levels = [...new Set([...wanted].map((n) => depth.get(n) ?? 0))].sort((a, b) => b - a);
    for (const level of levels) {
      const names = [...wanted].filter((n) => (depth.get(n) ?? 0) === level);
      for (const name of names) {
        this.state(name).active = false;
        this.state(name).stoppedByUser = true;
      }
      await Promise.all(
        names.flatMap((name) =>
          this.allSlots(this.state(name)).map((slot) =>
            this.stopSlot(slot, 'stop', opts.timeoutMs),
          ),
        ),
      );
    }
  }

  /** Graceful stop of everything, in reverse dependency order. */
  async shutdown(opts: StopOptions = {}): Promise<void> {
    this.shuttingDown = true;
    await this.stopServices(undefined, opts);
  }

  /** Second Ctrl-C: SIGKILL every replica's process group at once. */
  killAll(): void {
    this.shuttingDown = true;
    for (const st of this.services.values()) {
      st.active = false;
      for (const slot of this.allSlots(st)) {
        slot.stopIntent = 'stop';
        slot.timer?.cancel();
        slot.handle?.kill('SIGKILL');
      }
    }
  }

  /** `herd kill`: the signal goes to every live replica of the services (default: all) now.
   * As `docker kill` does: SIGKILL or the service's stop_signal is a manual stop, so the replica
   * stays down whatever its restart policy (a replica waiting to restart is not restarted
   * either); another signal that ends it leaves it to the restart policy, where unless-stopped
   * counts it as stopped by the user. `herd start`/`restart`/`up` bring it back. */
  killServices(signal: NodeJS.Signals, names?: string[]): void {
    const wanted = names ?? Object.keys(this.current.services);
    for (const name of wanted) this.state(name);
    for (const name of wanted) {
      const st = this.state(name);
      for (const slot of this.allSlots(st)) {
        const s = slot.info.state;
        if (s === 'backoff' && isManualKill(signal, st.service) && !slot.successorOf) {
          slot.timer?.cancel();
          slot.timer = undefined;
          slot.generation++;
          this.setState(slot, 'exited', `killed (${signal}) while waiting to restart`);
        } else if (slot.handle && (s === 'running' || s === 'starting' || s === 'stopping')) {
          slot.killedWith = signal;
          slot.handle.kill(signal);
        }
      }
    }
  }

  /** Rolling restart of the named services (default: all) and of their dependants declared with
   * `depends_on: {x: {restart: true}}`, in dependency order. Each service follows its
   * `x-herd.rollout` (rollout.ts). Rejects, leaving the replica being replaced in place, when a
   * replacement does not become ready. A stopped service is started, as `docker compose restart`
   * does. */
  async restartServices(names?: string[], opts: StopOptions = {}): Promise<void> {
    for (const n of names ?? []) this.state(n);
    const order = restartOrder(this.current, names ?? Object.keys(this.current.services));
    for (const name of order) {
      const st = this.state(name);
      if (!st.active) await this.up([name]);
      else await this.rollService(st, opts.timeoutMs);
    }
  }

  /** Re-applies a changed compose file: new services start, removed ones are drained and
   * stopped, changed ones get a rolling restart, the rest is untouched. Scale follows the new
   * file unless `herd scale` (or up's scales) set it since. */
  async apply(next: Project): Promise<void> {
    if (next.name !== this.current.name) {
      throw new HerdError(
        `the project name changed from ${this.current.name} to ${next.name}; ` +
          'run `herd down` then `herd up` to switch projects',
      );
    }
    const plan = planApply(this.current, next);
    dependencyOrder(next, Object.keys(next.services));
    for (const name of [...plan.added, ...plan.changed]) {
      const service = next.services[name]!;
      rolloutSettings(service);
      this.checkRunnable(service);
    }
    const before = this.current;
    this.current = next;
    const depth = dependencyDepths(before, dependencyOrder(before, Object.keys(before.services)));
    const removed = [...plan.removed].sort((a, b) => (depth.get(b) ?? 0) - (depth.get(a) ?? 0));
    for (const name of removed) {
      const st = this.state(name);
      this.notice({ service: name }, `${name} is no longer in the compose file: stopping it`);
      st.active = false;
      await Promise.all([...st.slots.values()].map((slot) => this.stopSlot(slot, 'scale')));
      this.services.delete(name);
    }
    for (const service of Object.values(next.services)) {
      const st = this.services.get(service.name) ?? this.addService(service);
      st.service = service;
      if (!st.scaleOverridden && st.desired !== service.scale) {
        const from = st.desired;
        st.desired = service.scale;
        this.emit({
          type: 'scaled',
          at: this.clock.now(),
          service: service.name,
          from,
          to: st.desired,
        });
      }
    }
    this.reconcile();
    if (plan.added.length > 0) {
      this.notice({ service: plan.added[0]! }, `starting new services: ${plan.added.join(', ')}`);
      await this.up(plan.added);
    }
    const changed = plan.changed.filter((n) => this.state(n).active);
    if (changed.length > 0) {
      this.notice({ service: changed[0]! }, `definition changed: restarting ${changed.join(', ')}`);
      await this.restartServices(changed);
    }
  }

  // ---- rolling restart ----

  private async rollService(st: ServiceState, stopTimeoutMs?: number): Promise<void> {
    const settings: RollPlan = { ...rolloutSettings(st.service), stopTimeoutMs };
    const name = st.service.name;
    const indexes = [...st.slots.keys()].filter((i) => i <= st.desired);
    const each = settings.parallelism === 1 ? 'one at a time' : `${settings.parallelism} at a time`;
    this.notice(
      { service: name },
      `restarting ${name} (${indexes.length} replicas, ${each}, ${settings.order})`,
    );
    for (const batch of rolloutBatches(indexes, settings.parallelism)) {
      const results = await Promise.allSettled(batch.map((i) => this.restartSlot(st, i, settings)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    this.notice({ service: name }, `${name} restarted`);
  }

  private async restartSlot(st: ServiceState, index: number, settings: RollPlan): Promise<void> {
    const slot = st.slots.get(index);
    if (!slot || !st.active) return;
    if (slot.successor) {
      throw new HerdError(`${shortName(slot)} is already being restarted; wait for that to finish`);
    }
    if (slot.info.state === 'running' && settings.order === 'start-first') {
      return this.replaceStartFirst(st, slot, settings);
    }
    this.notice(slot, `${shortName(slot)}: restarting (stop-first)`);
    await this.stopSlot(slot, 'restart', settings.stopTimeoutMs);
    this.reconcile();
    const needReady = takesTraffic(st.service) || !!st.service.healthcheck?.test;
    const outcome = await this.waitReady(st, slot, settings.readyTimeoutMs, needReady, () => false);
    if (!outcome.ok) {
      throw new HerdError(
        `restart of ${shortName(slot)} failed: ${outcome.reason}; the rollout of ${st.service.name} stopped there`,
      );
    }
  }

  /** Successor first, then drain and stop the old replica: the slot never loses capacity. */
  private async replaceStartFirst(st: ServiceState, old: Slot, settings: RollPlan): Promise<void> {
    const label = shortName(old);
    const next = newSlot(this.current.name, st.service.name, old.index);
    const temp = `${old.info.name}-next`;
    next.info.name = temp;
    next.runtimeName = old.spec?.name === temp ? old.info.name : temp;
    next.info.restarts = old.info.restarts;
    next.successorOf = old;
    old.successor = next;
    this.emitReplica(next);
    this.notice(old, `${label}: starting its replacement`);
    this.task(next, this.startSlot(next));
    const outcome = await this.waitReady(
      st,
      next,
      settings.readyTimeoutMs,
      true,
      () => old.successor !== next,
    );
    if (!outcome.ok) {
      if (old.successor === next) this.dropSuccessor(old);
      else if (next.info.state !== 'removed') this.discard(next);
      if (!st.active || this.shuttingDown) {
        throw new HerdError(`restart of ${label} was interrupted: ${st.service.name} was stopped`);
      }
      this.notice(old, `${label}: its replacement ${outcome.reason}; keeping the running one`);
      throw new HerdError(
        `could not restart ${label} of ${st.service.name}: its replacement ${outcome.reason}. ` +
          `${label} keeps running as before; see \`herd logs ${st.service.name}\``,
      );
    }
    this.notice(old, `${label}: replacement ready, draining and stopping the previous one`);
    await this.stopSlot(old, 'replaced', settings.stopTimeoutMs);
    if (st.slots.get(old.index) !== next) {
      throw new HerdError(`restart of ${label} was interrupted (${old.info.reason ?? 'stopped'})`);
    }
  }

  /** Waits until a (re)started replica is ready (running, and healthy with a healthcheck or
   * accepting connections when its service takes traffic, see Supervisor.readyWhenListening) or,
   * without `needReady`, running; `gone()` ends the wait early. */
  private async waitReady(
    st: ServiceState,
    slot: Slot,
    timeoutMs: number,
    needReady: boolean,
    gone: () => boolean,
  ): Promise<Outcome> {
    const within = formatDelay(timeoutMs);
    return this.waitOutcome(
      () => (gone() ? { ok: false, reason: 'was stopped' } : this.outcomeOf(slot, needReady)),
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

  /** Is a (re)started replica ready yet, or has it failed? */
  private outcomeOf(slot: Slot, needReady: boolean): Outcome | undefined {
    if (slot.ready || (!needReady && slot.info.state === 'running')) return { ok: true };
    const { state, lastExit, health, healthOutput } = slot.info;
    if (state === 'removed') return { ok: false, reason: 'was removed' };
    if (state === 'exited' || state === 'backoff') {
      const how = lastExit ? describeExit(lastExit) : (slot.info.reason ?? state);
      return { ok: false, reason: `exited before it was ready (${how})` };
    }
    if (health === 'unhealthy' && state === 'running') {
      return { ok: false, reason: `is unhealthy${healthOutput ? `: ${healthOutput}` : ''}` };
    }
    return undefined;
  }

  // ---- helpers ----

  /** Recorded as stopped: its replicas show as exited ("stopped") and do not start. */
  private holdStopped(st: ServiceState): void {
    st.active = false;
    st.stoppedByUser = true;
    for (let i = 1; i <= st.desired; i++) {
      let slot = st.slots.get(i);
      if (!slot) {
        slot = newSlot(this.current.name, st.service.name, i);
        st.slots.set(i, slot);
      }
      if (slot.info.state === 'waiting') this.setState(slot, 'exited', 'stopped');
    }
  }

  private allSlots(st: ServiceState): Slot[] {
    return [...st.slots.values()].flatMap((s) => (s.successor ? [s, s.successor] : [s]));
  }

  private checkScale(service: string, n: number): ServiceState {
    const st = this.state(service);
    if (!Number.isInteger(n) || n < 0) {
      throw new HerdError(`invalid scale for ${service}: ${n} (expected a whole number ≥ 0)`);
    }
    checkScaleLimit(st.service, n);
    return st;
  }
}
