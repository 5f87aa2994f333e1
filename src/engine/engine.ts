// The engine: the service-level verbs (up, stop, scale, restart, kill, apply) over desired state.
// It composes the pieces: an event hub (what listeners hear, waits on conditions), a supervisor
// (carries out the replica state machine), a reconciler (desired vs observed after every event)
// and the rolling restarts (rolling.ts).
import type { Project, Service } from '../compose/model.ts';
import type { Runtime } from '../runtime/types.ts';
import { realClock, type Clock } from '../util/clock.ts';
import { HerdError } from '../util/errors.ts';
import { dependencyOrder } from './deps.ts';
import { EventHub } from './event-hub.ts';
import { Definitions, type DefinitionRecord } from './definitions.ts';
import { Autoscaler, type AutoscaleStatus, type LoadSource } from './autoscaler.ts';
import type {
  AutoscaleDecision,
  Drainer,
  EngineEvent,
  ReplicaInfo,
  UpdateStatus,
} from './events.ts';
import { isManualKill } from './exit-step.ts';
import { probeHealthWatch, type HealthWatchFactory } from './health-watch.ts';
import { tcpListenWatch, type ListenWatchFactory } from './listening.ts';
import { forgetExited, pauseReplicas, type Forgotten } from './pause.ts';
import { Reconciler } from './reconciler.ts';
import { Rollouts, type StopOptions } from './rolling.ts';
import { rolloutSettings } from './rollout.ts';
import { planApply, serviceHash } from './service-hash.ts';
import {
  addServiceState,
  allSlots,
  checkScale,
  holdStopped,
  listReplicas,
  checkRunnable,
  removeServices,
  settled,
  stopLevels,
} from './service-ops.ts';
import { Supervisor } from './supervisor.ts';
import type { ServiceAddresses } from '../runtime/env.ts';

export type { DefinitionRecord, Forgotten, StopOptions, UpdateStatus };
export { isManualKill };

export interface EngineOptions {
  runtime: Runtime | ((service: Service) => Runtime);
  clock?: Clock;
  serviceAddresses?: ServiceAddresses;
  /** How health is watched (default: Compose healthchecks through src/health). */
  healthWatch?: HealthWatchFactory;
  /** How "accepts connections" is seen (default: TCP connects to the replica's port). */
  listenWatch?: ListenWatchFactory;
  /** Environment replicas inherit (default: herd's own). */
  baseEnv?: Record<string, string | undefined>;
  /** A rollback made an earlier definition live again: the runtimes must follow (a Docker
   * service's image) before its replicas start. */
  definitionsChanged?: (project: Project) => Promise<void>;
}

export interface UpOptions {
  /** Scale overrides to start from (a restarted daemon's `herd scale` record). */
  scales?: Record<string, number>;
  /** Services that stay stopped (exited, reason "stopped") until startServices or up. */
  stopped?: string[];
}

type Listener = (e: EngineEvent) => void;

export class Engine {
  private current: Project;
  private readonly hub: EventHub;
  private readonly sup: Supervisor;
  private readonly reconciler: Reconciler;
  private readonly rollouts: Rollouts;
  private autoscaler?: Autoscaler;
  private readonly definitions: Definitions;

  constructor(
    project: Project,
    private readonly opts: EngineOptions,
  ) {
    this.current = project;
    const clock = opts.clock ?? realClock;
    this.hub = new EventHub(clock);
    const runtime = opts.runtime;
    this.sup = new Supervisor({
      hub: this.hub,
      clock,
      project: () => this.current,
      runtimeFor: typeof runtime === 'function' ? runtime : () => runtime,
      healthWatch: opts.healthWatch ?? probeHealthWatch,
      listenWatch: opts.listenWatch ?? tcpListenWatch,
      serviceAddresses: opts.serviceAddresses,
      baseEnv: opts.baseEnv,
      changed: () => this.reconciler.reconcile(),
    });
    this.reconciler = new Reconciler(this.sup, () => this.current.name);
    this.definitions = new Definitions(this.hub);
    this.rollouts = new Rollouts(
      this.sup,
      this.hub,
      () => this.current,
      (names) => this.up(names),
      {
        setDefinition: (service) => this.swapDefinition(service),
        status: (s) => this.definitions.status(s),
      },
    );
    for (const service of Object.values(project.services)) {
      rolloutSettings(service);
      addServiceState(this.sup, service);
    }
  }

  get project(): Project {
    return this.current;
  }

  on(_event: 'event', listener: Listener): this {
    this.hub.on('event', listener);
    return this;
  }

  off(_event: 'event', listener: Listener): this {
    this.hub.off('event', listener);
    return this;
  }

  setDrainer(d: Drainer): void {
    this.sup.drainer = d;
  }

  /** Starts scaling the services with `x-herd.autoscale` by the load `load` reads, every second
   * on the engine's clock, until shutdown. */
  startAutoscaler(load: LoadSource): void {
    this.autoscaler?.stop();
    this.autoscaler = new Autoscaler(this, load, this.hub.clock);
    this.autoscaler.start();
  }

  /** A notice about `service` in `herd events` (the autoscaler's trouble reading a target). */
  notice(service: string, message: string): void {
    this.sup.notice({ service }, message);
  }

  /** The balancer holds a request for `service` and has no replica for it: a service scaled to
   * zero starts one now (autoscaler.ts wake). */
  wake(service: string, held?: number): void {
    this.autoscaler?.wake(service, held);
  }

  /** The autoscaled services and the autoscaler's latest decisions, for `ps`. */
  autoscaling(): AutoscaleStatus[] {
    return this.autoscaler?.status() ?? [];
  }

  /** Every replica, by service and number; a successor during a rolling restart follows the
   * replica it replaces. */
  replicas(): ReplicaInfo[] {
    return listReplicas(this.sup.services.values());
  }

  /** Starts reconciling the named services (default: all) and their dependencies; resolves once
   * every one of their replicas has been started (or failed), in depends_on order. */
  async up(names?: string[], opts: UpOptions = {}): Promise<void> {
    const order = dependencyOrder(this.current, names ?? Object.keys(this.current.services));
    const held = new Set(opts.stopped ?? []);
    for (const name of held) this.sup.state(name);
    for (const [name, n] of Object.entries(opts.scales ?? {})) checkScale(this.sup, name, n);
    for (const name of order)
      if (!held.has(name)) checkRunnable(this.opts.runtime, this.sup.state(name).service);
    for (const [name, n] of Object.entries(opts.scales ?? {})) {
      const st = this.sup.state(name);
      st.desired = n;
      st.scaleOverridden = true;
    }
    this.sup.shuttingDown = false;
    for (const name of order) {
      const st = this.sup.state(name);
      if (held.has(name)) {
        holdStopped(this.sup, this.current.name, st);
        continue;
      }
      st.active = true;
      st.stoppedByUser = false;
      for (const slot of st.slots.values()) this.sup.dispatch(slot, { type: 'reset' });
    }
    this.reconciler.reconcile();
    const started = order.filter((n) => !held.has(n));
    await this.hub.waitFor(() => started.every((n) => settled(this.sup.state(n))));
  }

  startServices(names?: string[]): Promise<void> {
    return this.up(names);
  }

  /** `autoscale`: the autoscaler's decision, carried on the `scaled` event. */
  setScale(service: string, n: number, autoscale?: AutoscaleDecision): void {
    const st = checkScale(this.sup, service, n);
    const from = st.desired;
    st.desired = n;
    st.scaleOverridden = true;
    const at = this.hub.clock.now();
    if (from !== n)
      this.hub.emit({ type: 'scaled', at, service, from, to: n, ...(autoscale && { autoscale }) });
    this.reconciler.reconcile();
  }

  /** The replica count the engine reconciles the service toward; undefined: no such service. */
  desired(service: string): number | undefined {
    return this.sup.services.get(service)?.desired;
  }

  /** Stops the named services (default: all), dependants before their dependencies. They stay
   * stopped, whatever their restart policy, until startServices or up. */
  async stopServices(names?: string[], opts: StopOptions = {}): Promise<void> {
    const wanted = new Set(names ?? Object.keys(this.current.services));
    for (const n of wanted) this.sup.state(n);
    for (const names of stopLevels(this.current, wanted)) {
      for (const name of names) {
        this.sup.state(name).active = false;
        this.sup.state(name).stoppedByUser = true;
      }
      await Promise.all(
        names.flatMap((name) =>
          allSlots(this.sup.state(name)).map((slot) => this.sup.stop(slot, 'stop', opts.timeoutMs)),
        ),
      );
    }
  }

  /** Graceful stop of everything, in reverse dependency order. */
  async shutdown(opts: StopOptions = {}): Promise<void> {
    this.sup.shuttingDown = true;
    this.autoscaler?.stop();
    await this.stopServices(undefined, opts);
  }

  /** Second Ctrl-C: SIGKILL every replica's process group at once. */
  killAll(): void {
    this.sup.shuttingDown = true;
    this.autoscaler?.stop();
    for (const st of this.sup.services.values()) {
      st.active = false;
      for (const slot of allSlots(st)) this.sup.dispatch(slot, { type: 'abort' });
    }
  }

  /** `herd kill`: the signal goes to every live replica of the services (default: all) now.
   * As `docker kill` does: SIGKILL or the service's stop_signal is a manual stop, so the replica
   * stays down whatever its restart policy (a replica waiting to restart is not restarted
   * either); another signal that ends it leaves it to the restart policy, where unless-stopped
   * counts it as stopped by the user. `herd start`/`restart`/`up` bring it back. */
  killServices(signal: NodeJS.Signals, names?: string[]): void {
    const wanted = names ?? Object.keys(this.current.services);
    for (const name of wanted) this.sup.state(name);
    for (const name of wanted) {
      const st = this.sup.state(name);
      const manual = isManualKill(signal, st.service);
      for (const slot of allSlots(st)) this.sup.dispatch(slot, { type: 'kill', signal, manual });
    }
  }

  /** `herd pause`/`unpause`: the running replicas of the services (default: all); the names of
   * those it changed (pause.ts). */
  pauseServices(paused: boolean, names?: string[]): Promise<string[]> {
    return pauseReplicas(this.sup, names ?? Object.keys(this.current.services), paused);
  }

  /** `herd rm`: forgets the exited replicas of the services that have nothing running. */
  removeExited(names?: string[], opts = { volumes: false }): Promise<Forgotten> {
    return forgetExited(this.sup, names ?? Object.keys(this.current.services), opts);
  }

  /** Rolling restart of the named services (default: all) and of their dependants declared with
   * `depends_on: {x: {restart: true}}`, in dependency order (rolling.ts). */
  restartServices(names?: string[], opts: StopOptions = {}): Promise<void> {
    return this.rollouts.restartServices(names, opts);
  }

  /** Re-applies a changed compose file: new services start, removed ones are drained and
   * stopped, changed ones get a rolling restart, the rest is untouched. Scale follows the new
   * file unless `herd scale` (or up's scales) set it since. */
  async apply(next: Project): Promise<void> {
    if (next.name !== this.current.name) {
      throw new HerdError(
        `the project name changed from ${this.current.name} to ${next.name}; ` +
          'run `herd down` then `herd up` to switch projects',
        'CONFLICT',
      );
    }
    const plan = planApply(this.current, next);
    dependencyOrder(next, Object.keys(next.services));
    for (const name of [...plan.added, ...plan.changed]) {
      const service = next.services[name]!;
      rolloutSettings(service);
      checkRunnable(this.opts.runtime, service);
    }
    const before = this.current;
    this.current = next;
    await removeServices(this.sup, this.definitions, before, plan.removed);
    for (const service of Object.values(next.services)) this.takeDefinition(service);
    this.reconciler.reconcile();
    if (plan.added.length > 0) {
      this.sup.notice(
        { service: plan.added[0]! },
        `starting new services: ${plan.added.join(', ')}`,
      );
      await this.up(plan.added);
    }
    for (const name of plan.changed)
      this.definitions.requestedChange(before.services[name], next.services[name]!);
    for (const name of plan.added)
      this.definitions.requestedChange(undefined, next.services[name]!);
    const changed = plan.changed.filter((n) => this.sup.state(n).active);
    if (changed.length > 0) {
      this.sup.notice(
        { service: changed[0]! },
        `definition changed: updating ${changed.join(', ')}`,
      );
      const previous = new Map(changed.map((n) => [n, before.services[n]!]));
      await this.rollouts.restartServices(changed, {}, previous);
    }
  }

  /** `herd rollback`: the service's previous definition becomes live again (and the one it
   * replaces becomes the previous one, as Swarm swaps them), and its replicas are replaced
   * as its rollback_config says. */
  async rollbackService(name: string): Promise<void> {
    const st = this.sup.state(name);
    const previous = this.definitions.previousOf(name);
    if (!previous)
      throw new HerdError(
        `${name} has no previous definition to roll back to: it has not changed since herd ` +
          'started it',
        'CONFLICT',
      );
    this.sup.notice({ service: name }, `${name}: rolling back to its previous definition`);
    await this.swapDefinition(previous);
    if (st.active) return this.rollouts.rollbackService(name);
    const startedAt = this.hub.clock.now();
    this.definitions.status({ service: name, kind: 'rollback', state: 'rolled back', startedAt });
  }

  /** Where each service's last update, rolling restart or rollback stands. */
  updates(): UpdateStatus[] {
    return this.definitions.updates();
  }

  /** Every service's live, previous and requested definition, for the daemon's record. */
  definitionRecords(): DefinitionRecord[] {
    return this.definitions.records(this.current);
  }

  /** Before `up`: a restarted daemon makes live what its predecessor ran (a rolled-back
   * definition instead of the file's). */
  async restoreDefinitions(records: DefinitionRecord[]): Promise<void> {
    let changed = false;
    for (const r of records) {
      const st = this.sup.services.get(r.service);
      if (!st) continue;
      this.definitions.restore(r);
      if (serviceHash(r.live) === serviceHash(st.service)) continue;
      rolloutSettings(r.live);
      this.setLive(r.live);
      changed = true;
    }
    if (changed) await this.opts.definitionsChanged?.(this.current);
  }

  /** `service` becomes live; the definition it replaces is kept as the previous one. */
  private async swapDefinition(service: Service): Promise<void> {
    const current = this.sup.state(service.name).service;
    this.definitions.swapped(current, service);
    this.setLive(service);
    await this.opts.definitionsChanged?.(this.current);
  }

  private setLive(service: Service): void {
    this.current = {
      ...this.current,
      services: { ...this.current.services, [service.name]: service },
    };
    this.sup.state(service.name).service = service;
  }

  /** A service's new definition; its scale follows the file unless set by command. */
  private takeDefinition(service: Service): void {
    const st = this.sup.services.get(service.name) ?? addServiceState(this.sup, service);
    st.service = service;
    if (st.scaleOverridden || st.desired === service.scale) return;
    const from = st.desired;
    st.desired = service.scale;
    const at = this.hub.clock.now();
    this.hub.emit({ type: 'scaled', at, service: service.name, from, to: st.desired });
  }
}
