// The supervisor: a level-triggered reconciler. Desired state (services taken up, their scale,
// stopped flags) is compared with the observed replicas after every event, and the difference
// becomes starts, stops and restarts. Every state change goes through lifecycle.ts.
import type { Project, Service } from '../compose/model.ts';
import type { ExitInfo, ReplicaHandle, Runtime } from '../runtime/types.ts';
import { planReplica, processCommand, type ServiceAddresses } from '../runtime/env.ts';
import { HerdError } from '../util/errors.ts';
import { realClock, type Clock } from './clock.ts';
import type { Drainer, EngineEvent, ReplicaInfo, ReplicaState } from './events.ts';
import { transition } from './lifecycle.ts';
import { decideRestart, describeExit, policyName } from './restart-policy.ts';
import { formatDelay, nextBackoff } from './backoff.ts';
import { dependencyDepths, dependencyOrder } from './deps.ts';
import { newSlot, shortName, snapshot, type Slot, type StopIntent } from './slot.ts';
import { gateFor, type Gate } from './gate.ts';
import { probeHealthWatch, type HealthWatchFactory } from './health-watch.ts';

export interface EngineOptions {
  runtime: Runtime | ((service: Service) => Runtime);
  clock?: Clock;
  serviceAddresses?: ServiceAddresses;
  /** How health is watched (default: Compose healthchecks through src/health). */
  healthWatch?: HealthWatchFactory;
  /** Environment replicas inherit (default: herd's own). */
  baseEnv?: Record<string, string | undefined>;
}

interface ServiceState {
  service: Service;
  desired: number;
  active: boolean;
  slots: Map<number, Slot>;
}

type Listener = (e: EngineEvent) => void;

export class Engine {
  private readonly clock: Clock;
  private readonly services = new Map<string, ServiceState>();
  private readonly listeners: Listener[] = [];
  private waiters: { done: () => boolean; resolve: () => void }[] = [];
  private drainer?: Drainer;
  private readonly healthWatch: HealthWatchFactory;
  private shuttingDown = false;

  constructor(
    readonly project: Project,
    private readonly opts: EngineOptions,
  ) {
    this.clock = opts.clock ?? realClock;
    this.healthWatch = opts.healthWatch ?? probeHealthWatch;
    for (const service of Object.values(project.services)) {
      this.services.set(service.name, {
        service,
        desired: service.scale,
        active: false,
        slots: new Map(),
      });
    }
  }

  on(_event: 'event', listener: Listener): this {
    this.listeners.push(listener);
    return this;
  }

  off(_event: 'event', listener: Listener): this {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
    return this;
  }

  setDrainer(d: Drainer): void {
    this.drainer = d;
  }

  replicas(): ReplicaInfo[] {
    const out: ReplicaInfo[] = [];
    for (const st of this.services.values()) {
      for (const slot of [...st.slots.values()].sort((a, b) => a.index - b.index)) {
        out.push(snapshot(slot.info));
      }
    }
    return out;
  }

  /** Starts reconciling the named services (default: all) and their dependencies; resolves once
   * every one of their replicas has been started (or failed), in depends_on order. */
  async up(names?: string[]): Promise<void> {
    const order = dependencyOrder(this.project, names ?? Object.keys(this.project.services));
    for (const name of order) this.checkRunnable(this.state(name).service);
    this.shuttingDown = false;
    for (const name of order) {
      const st = this.state(name);
      st.active = true;
      for (const slot of st.slots.values()) {
        if (slot.info.state === 'exited') this.setState(slot, 'waiting');
      }
    }
    this.reconcile();
    await this.waitFor(() => order.every((n) => this.settled(n)));
  }

  startServices(names?: string[]): Promise<void> {
    return this.up(names);
  }

  setScale(service: string, n: number): void {
    const st = this.state(service);
    if (!Number.isInteger(n) || n < 0) {
      throw new HerdError(`invalid scale for ${service}: ${n} (expected a whole number ≥ 0)`);
    }
    const from = st.desired;
    st.desired = n;
    if (from !== n) this.emit({ type: 'scaled', at: this.clock.now(), service, from, to: n });
    this.reconcile();
  }

  /** Stops the named services (default: all), dependants before their dependencies. */
  async stopServices(names?: string[]): Promise<void> {
    const all = Object.keys(this.project.services);
    const wanted = new Set(names ?? all);
    for (const n of wanted) this.state(n);
    // Dependants stop before what they depend on; services of the same depth stop together.
    const depth = dependencyDepths(this.project, dependencyOrder(this.project, all));
    const levels = [...new Set([...wanted].map((n) => depth.get(n) ?? 0))].sort((a, b) => b - a);
    for (const level of levels) {
      const names = [...wanted].filter((n) => (depth.get(n) ?? 0) === level);
      for (const name of names) this.state(name).active = false;
      await Promise.all(
        names.flatMap((name) =>
          [...this.state(name).slots.values()].map((slot) => this.stopSlot(slot, 'stop')),
        ),
      );
    }
  }

  /** Graceful stop of everything, in reverse dependency order. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.stopServices();
  }

  /** Second Ctrl-C: SIGKILL every replica's process group at once. */
  killAll(): void {
    this.shuttingDown = true;
    for (const st of this.services.values()) {
      st.active = false;
      for (const slot of st.slots.values()) {
        slot.stopIntent = 'stop';
        slot.timer?.cancel();
        slot.handle?.kill('SIGKILL');
      }
    }
  }

  // ---- reconciliation ----

  private reconcile(): void {
    for (const st of this.services.values()) {
      if (!st.active || this.shuttingDown) continue;
      for (let i = 1; i <= st.desired; i++) {
        let slot = st.slots.get(i);
        if (!slot) {
          slot = newSlot(this.project.name, st.service.name, i);
          st.slots.set(i, slot);
          this.emitReplica(slot);
        }
        if (slot.info.state === 'waiting') this.gateAndStart(st, slot);
      }
      for (const slot of st.slots.values()) {
        if (slot.index > st.desired && slot.stopIntent !== 'scale')
          this.task(slot, this.stopSlot(slot, 'scale'));
      }
    }
    this.checkWaiters();
  }

  private gateAndStart(st: ServiceState, slot: Slot): void {
    const gate: Gate = gateFor(st.service, (name) => this.services.get(name));
    if (gate.kind === 'ok') {
      this.task(slot, this.startSlot(slot));
    } else if (gate.kind === 'wait') {
      if (slot.info.reason !== gate.reason) {
        slot.info.reason = gate.reason;
        this.emitReplica(slot);
      }
    } else {
      this.setState(slot, 'exited', gate.reason);
      this.notice(slot, `${shortName(slot)} not started: ${gate.reason}`);
    }
  }

  private async startSlot(slot: Slot): Promise<void> {
    const st = this.state(slot.service);
    const gen = ++slot.generation;
    this.setState(slot, 'starting');
    let handle: ReplicaHandle;
    try {
      const runtime = this.runtimeFor(st.service);
      const plan = await planReplica(this.project, st.service, slot.index, {
        serviceAddresses: this.opts.serviceAddresses,
        baseEnv: this.opts.baseEnv,
        allowImageDefault: runtime.kind === 'docker',
      });
      slot.spec = plan.spec;
      slot.info.port = plan.spec.port;
      slot.info.ports = plan.ports;
      handle = await runtime.start(plan.spec);
    } catch (err) {
      if (gen !== slot.generation) return;
      const message = err instanceof Error ? err.message : String(err);
      this.onExit(slot, gen, { exitCode: 126, startError: message });
      return;
    }
    if (gen !== slot.generation) {
      void handle.stop();
      return;
    }
    slot.handle = handle;
    handle.onOutput((stream, line) =>
      this.emit({
        type: 'output',
        at: this.clock.now(),
        service: slot.service,
        name: slot.info.name,
        stream,
        line,
      }),
    );
    void handle.exited
      .then((exit) => this.onExit(slot, gen, exit))
      .catch((err: unknown) => this.internalError(slot, err));
    if (handle.startError !== undefined) return;
    slot.everStarted = true;
    slot.info.pid = handle.pid;
    slot.info.startedAt = this.clock.now();
    slot.info.finishedAt = undefined;
    const check = st.service.healthcheck;
    slot.info.health = check?.test ? 'starting' : 'none';
    if (slot.stopIntent) {
      this.setState(slot, 'stopping', 'stopping');
      void handle.stop();
      return;
    }
    this.setState(slot, 'running');
    if (check?.test && slot.spec) {
      slot.health = this.healthWatch({
        check,
        spec: slot.spec,
        clock: this.clock,
        startedAt: slot.info.startedAt,
        onChange: (status) => this.onHealth(slot, gen, status),
      });
    } else {
      this.markReady(slot);
    }
    this.reconcile();
  }

  private onHealth(slot: Slot, gen: number, status: 'healthy' | 'unhealthy'): void {
    if (gen !== slot.generation || slot.info.state !== 'running') return;
    slot.info.health = status;
    this.emitReplica(slot);
    if (status === 'healthy') {
      this.markReady(slot);
    } else {
      this.markUnready(slot, 'unhealthy');
      const st = this.state(slot.service);
      if (st.service.herd.healUnhealthy && st.service.restart.condition !== 'no') {
        this.notice(slot, `${shortName(slot)} is unhealthy, restarting it`);
        this.task(slot, this.stopSlot(slot, 'unhealthy'));
      }
    }
    this.reconcile();
  }

  private onExit(slot: Slot, gen: number, exit: ExitInfo): void {
    if (gen !== slot.generation) return;
    const st = this.state(slot.service);
    slot.health?.stop();
    slot.health = undefined;
    slot.handle = undefined;
    slot.info.pid = undefined;
    slot.info.lastExit = exit;
    slot.info.finishedAt = this.clock.now();
    this.markUnready(slot, exit.startError ?? `exited (${describeExit(exit)})`);
    const uptime =
      slot.info.startedAt !== undefined && exit.startError === undefined
        ? this.clock.now() - slot.info.startedAt
        : 0;
    const intent = slot.stopIntent;
    slot.stopIntent = undefined;
    if (intent === 'scale') {
      this.setState(slot, 'removed', 'scaled down');
      st.slots.delete(slot.index);
    } else if (intent === 'stop') {
      this.setState(slot, 'exited', 'stopped');
    } else if (intent === 'dependency') {
      this.setState(slot, 'waiting', 'restarting: a dependency was restarted');
    } else {
      this.applyPolicy(st, slot, exit, uptime);
    }
    this.reconcile();
  }

  private applyPolicy(st: ServiceState, slot: Slot, exit: ExitInfo, uptimeMs: number): void {
    const policy = st.service.restart;
    const decision = decideRestart({
      policy,
      exit,
      attempts: slot.attempts,
      uptimeMs,
      stoppedByUser: this.shuttingDown || !st.active,
    });
    slot.attempts = decision.attempts;
    const what =
      exit.startError !== undefined
        ? `could not start: ${exit.startError}`
        : `exited with code ${exit.exitCode}${exit.oomKilled ? ' (out of memory)' : ''}`;
    if (!decision.restart) {
      this.setState(slot, 'exited', decision.reason);
      const tail = decision.reason.startsWith('gave up') ? `; ${decision.reason}` : '';
      this.notice(slot, `${shortName(slot)} ${what}${tail}`);
      return;
    }
    const delay = nextBackoff({ previousMs: slot.lastDelayMs, uptimeMs, baseMs: policy.delayMs });
    slot.lastDelayMs = delay;
    this.setState(slot, 'backoff', `${describeExit(exit)}, restarting in ${formatDelay(delay)}`);
    this.notice(
      slot,
      `${shortName(slot)} ${what}, restarting in ${formatDelay(delay)} (restart: ${policyName(policy)})`,
    );
    slot.timer = this.clock.setTimeout(() => {
      slot.timer = undefined;
      if (slot.info.state !== 'backoff' || this.shuttingDown) return;
      slot.info.restarts++;
      this.task(slot, this.startSlot(slot));
      this.restartDependants(slot.service);
    }, delay);
  }

  /** `depends_on: {x: {restart: true}}`: when herd restarts x, its dependants restart too. */
  private restartDependants(dep: string): void {
    for (const st of this.services.values()) {
      if (!st.active || !st.service.dependsOn[dep]?.restart) continue;
      for (const slot of st.slots.values()) {
        if (slot.info.state === 'running') {
          this.notice(slot, `${shortName(slot)} restarting because ${dep} was restarted`);
          this.task(slot, this.stopSlot(slot, 'dependency'));
        }
      }
    }
  }

  /** Stops one replica on purpose; resolves once it is exited, removed or re-gated. */
  private async stopSlot(slot: Slot, intent: StopIntent): Promise<void> {
    const state = slot.info.state;
    const st = this.state(slot.service);
    if (state === 'removed') return;
    if (state === 'waiting' || state === 'exited' || state === 'backoff') {
      slot.timer?.cancel();
      slot.timer = undefined;
      slot.generation++;
      if (intent === 'scale') {
        this.setState(slot, 'removed', 'scaled down');
        st.slots.delete(slot.index);
      } else if (state !== 'exited') {
        this.setState(slot, 'exited', 'stopped');
      }
      return;
    }
    // A stop for shutdown wins over a restart already under way.
    if (slot.stopIntent === undefined || intent === 'stop' || intent === 'scale') {
      slot.stopIntent = intent;
    }
    const idle = this.waitIdle(slot);
    if (state === 'running') {
      if (slot.ready && intent !== 'unhealthy') {
        this.markUnready(slot, 'draining');
        const grace = st.service.stopGracePeriodMs;
        if (this.drainer) {
          await this.drainer(snapshot(slot.info), grace).catch(() => undefined);
        }
      }
      this.markUnready(slot, 'stopping');
      const handle = slot.handle;
      if (slot.info.state === 'running' && handle) {
        slot.health?.stop();
        slot.health = undefined;
        this.setState(slot, 'stopping', 'stopping');
        void handle.stop();
      }
    }
    await idle;
  }

  private task(slot: Slot, work: Promise<void>): void {
    work.catch((err: unknown) => this.internalError(slot, err));
  }

  /** A bug in the engine must not take herd (and every other replica) down with it. */
  private internalError(slot: Slot, err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    this.notice(slot, `herd internal error while supervising ${shortName(slot)}: ${text}`);
  }

  // ---- state and events ----

  private setState(slot: Slot, to: ReplicaState, reason?: string): void {
    slot.info.state = transition(slot.info.state, to, slot.info.name);
    slot.info.reason = reason;
    this.emitReplica(slot);
    if (to === 'exited' || to === 'removed' || to === 'waiting' || to === 'backoff') {
      const waiters = slot.idleWaiters;
      slot.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.checkWaiters();
  }

  private waitIdle(slot: Slot): Promise<void> {
    return new Promise((resolve) => slot.idleWaiters.push(resolve));
  }

  private markReady(slot: Slot): void {
    if (slot.ready) return;
    slot.ready = true;
    this.emit({ type: 'ready', at: this.clock.now(), replica: snapshot(slot.info) });
  }

  private markUnready(slot: Slot, reason: string): void {
    if (!slot.ready) return;
    slot.ready = false;
    this.emit({ type: 'unready', at: this.clock.now(), replica: snapshot(slot.info), reason });
  }

  private emitReplica(slot: Slot): void {
    this.emit({ type: 'replica', at: this.clock.now(), replica: snapshot(slot.info) });
  }

  private notice(slot: Slot, message: string): void {
    this.emit({
      type: 'notice',
      at: this.clock.now(),
      service: slot.service,
      name: slot.info.name,
      message,
    });
  }

  private emit(e: EngineEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        // A broken listener must not stop supervision.
        process.stderr.write(`herd: event listener failed: ${String(err)}\n`);
      }
    }
  }

  private waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  private checkWaiters(): void {
    const ready = this.waiters.filter((w) => w.done());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  /** Every desired replica of the service has been started, or failed for good. */
  private settled(name: string): boolean {
    const st = this.state(name);
    for (let i = 1; i <= st.desired; i++) {
      const slot = st.slots.get(i);
      if (!slot) return false;
      const s = slot.info.state;
      if (s === 'waiting' || (s === 'starting' && !slot.everStarted)) return false;
    }
    return true;
  }

  private state(name: string): ServiceState {
    const st = this.services.get(name);
    if (!st) {
      throw new HerdError(
        `no such service: ${name} (services: ${[...this.services.keys()].join(', ')})`,
      );
    }
    return st;
  }

  private runtimeFor(service: Service): Runtime {
    const r = this.opts.runtime;
    return typeof r === 'function' ? r(service) : r;
  }

  /** Refuses up front what can never run, with what to do about it. */
  private checkRunnable(service: Service): void {
    if (this.runtimeFor(service).kind === 'process') processCommand(service);
  }
}
