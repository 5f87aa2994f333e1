// The per-replica half of the engine: starting, watching, stopping and restarting one replica
// slot, and the events that tell the rest of herd about it. Engine (engine.ts) builds the
// service-level verbs on top. Every state change goes through lifecycle.ts.
import type { Project, Service } from '../compose/model.ts';
import type { ExitInfo, ReplicaHandle, Runtime } from '../runtime/types.ts';
import { planReplica, processCommand, type ServiceAddresses } from '../runtime/env.ts';
import { HerdError } from '../util/errors.ts';
import { realClock, type Clock } from '../util/clock.ts';
import type { Drainer, ReplicaInfo, ReplicaState } from './events.ts';
import { transition } from './lifecycle.ts';
import { decideRestart, describeExit, policyName } from './restart-policy.ts';
import { formatDelay, nextBackoff } from './backoff.ts';
import { newSlot, shortName, snapshot, type Slot, type StopIntent } from './slot.ts';
import { gateFor, type Gate } from './gate.ts';
import { EventHub } from './event-hub.ts';
import { probeHealthWatch, type HealthWatchFactory } from './health-watch.ts';
import { listenTarget, waitListening } from './listening.ts';

/** How long a replica may run without listening before herd says so (it still waits). */
export const NOT_LISTENING_NOTICE_MS = 30_000;
/** Poll interval cap while waiting for a replica to listen, however long that takes. */
const LISTEN_POLL_MAX_MS = 250;

export interface EngineOptions {
  runtime: Runtime | ((service: Service) => Runtime);
  clock?: Clock;
  serviceAddresses?: ServiceAddresses;
  /** How health is watched (default: Compose healthchecks through src/health). */
  healthWatch?: HealthWatchFactory;
  /** Environment replicas inherit (default: herd's own). */
  baseEnv?: Record<string, string | undefined>;
}

export interface ServiceState {
  service: Service;
  desired: number;
  active: boolean;
  /** Stopped with stopServices (or recorded so): stays down until started again. */
  stoppedByUser: boolean;
  /** The scale was set by setScale/up({scales}): a re-applied file does not change it. */
  scaleOverridden: boolean;
  slots: Map<number, Slot>;
}

/** `herd kill` with these is a manual stop in Docker (no restart); see Engine.killServices. */
export function isManualKill(signal: NodeJS.Signals, service: Service): boolean {
  return signal === 'SIGKILL' || signal === service.stopSignal;
}

function withHealthLog(slot: Slot): ReplicaInfo {
  const info = snapshot(slot.info);
  const log = slot.health?.log() ?? [];
  if (log.length > 0) info.healthLog = log;
  return info;
}

export abstract class Supervisor extends EventHub {
  protected readonly services = new Map<string, ServiceState>();
  protected drainer?: Drainer;
  private readonly healthWatch: HealthWatchFactory;
  protected shuttingDown = false;
  /** Slots (`svc#n`) already started once in this engine's life: only a first start adopts. */
  private readonly startedOnce = new Set<string>();

  constructor(
    protected current: Project,
    private readonly opts: EngineOptions,
  ) {
    super(opts.clock ?? realClock);
    this.healthWatch = opts.healthWatch ?? probeHealthWatch;
    for (const service of Object.values(current.services)) this.addService(service);
  }

  get project(): Project {
    return this.current;
  }

  setDrainer(d: Drainer): void {
    this.drainer = d;
  }

  /** Every replica, by service and number; a successor during a rolling restart follows the
   * replica it replaces. */
  replicas(): ReplicaInfo[] {
    const out: ReplicaInfo[] = [];
    for (const st of this.services.values()) {
      for (const slot of [...st.slots.values()].sort((a, b) => a.index - b.index)) {
        out.push(withHealthLog(slot));
        if (slot.successor) out.push(withHealthLog(slot.successor));
      }
    }
    return out;
  }

  protected addService(service: Service): ServiceState {
    const st: ServiceState = {
      service,
      desired: service.scale,
      active: false,
      stoppedByUser: false,
      scaleOverridden: false,
      slots: new Map(),
    };
    this.services.set(service.name, st);
    return st;
  }

  // ---- reconciliation ----

  protected reconcile(): void {
    for (const st of this.services.values()) {
      if (!st.active || this.shuttingDown) continue;
      for (let i = 1; i <= st.desired; i++) {
        let slot = st.slots.get(i);
        if (!slot) {
          slot = newSlot(this.current.name, st.service.name, i);
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
      for (const why of gate.without ?? [])
        this.notice(slot, `${shortName(slot)} starts without an optional dependency: ${why}`);
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

  protected async startSlot(slot: Slot): Promise<void> {
    const st = this.state(slot.service);
    const gen = ++slot.generation;
    this.setState(slot, 'starting');
    let handle: ReplicaHandle | undefined;
    let adopted = false;
    try {
      const runtime = this.runtimeFor(st.service);
      const plan = await planReplica(this.current, st.service, slot.index, {
        serviceAddresses: this.opts.serviceAddresses,
        baseEnv: this.opts.baseEnv,
        allowImageDefault: runtime.kind === 'docker',
      });
      if (slot.runtimeName) plan.spec.name = slot.runtimeName;
      slot.spec = plan.spec;
      slot.info.port = plan.spec.port;
      slot.info.ports = plan.ports;
      const key = `${slot.service}#${slot.index}`;
      if (!slot.successorOf && !this.startedOnce.has(key)) {
        this.startedOnce.add(key);
        if (gen !== slot.generation) return;
        handle = await runtime.adopt?.(plan.spec);
        adopted = handle !== undefined;
      }
      if (gen !== slot.generation && !handle) return;
      handle ??= await runtime.start(plan.spec);
      if (adopted) this.takeAdoptedAddress(slot, handle, runtime.kind);
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
        name: slot.logName,
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
    slot.info.healthOutput = undefined;
    const check = st.service.healthcheck;
    slot.info.health = check?.test ? 'starting' : 'none';
    if (slot.stopIntent) {
      this.setState(slot, 'stopping', 'stopping');
      void handle.stop();
      return;
    }
    this.setState(slot, 'running', adopted ? 'adopted: it was already running' : undefined);
    if (adopted) this.notice(slot, `${shortName(slot)} was already running: adopted it`);
    if (check?.test && slot.spec) {
      slot.health = this.healthWatch({
        check,
        spec: slot.spec,
        clock: this.clock,
        startedAt: slot.info.startedAt,
        handle,
        onChange: (status, output) => this.onHealth(slot, gen, status, output),
      });
    } else {
      const target = listenTarget(st.service, slot.info);
      if (target) this.task(slot, this.readyWhenListening(slot, gen, target));
      else this.markReady(slot);
    }
    this.reconcile();
  }

  /** A replica that serves a port without a healthcheck is ready once the port accepts
   * connections: running is not listening, and traffic sent earlier would be refused. No deadline:
   * one that never listens never takes traffic (and herd says so after a while). */
  private async readyWhenListening(
    slot: Slot,
    gen: number,
    target: { host: string; port: number },
  ): Promise<void> {
    const current = () => gen === slot.generation && slot.info.state === 'running';
    const where = `${target.host}:${target.port}`;
    const slow = this.clock.setTimeout(() => {
      if (current() && !slot.ready)
        this.notice(slot, `${shortName(slot)} is running but not listening on ${where} yet`);
    }, NOT_LISTENING_NOTICE_MS);
    try {
      const ok = await waitListening({
        ...target,
        timeoutMs: Infinity,
        maxPollMs: LISTEN_POLL_MAX_MS,
        clock: this.clock,
        gone: () => !current(),
      });
      if (!ok || !current()) return;
      this.markReady(slot);
      this.reconcile();
    } finally {
      slow.cancel();
    }
  }

  /** An adopted replica listens where it was started, not where this plan would put it. */
  private takeAdoptedAddress(slot: Slot, handle: ReplicaHandle, kind: Runtime['kind']): void {
    if (handle.hostPorts) slot.info.ports = { ...handle.hostPorts };
    const port = handle.address?.port;
    if (port === undefined || kind !== 'process' || !slot.spec) return;
    slot.info.port = port;
    // Health probes read $PORT: it must be the port the adopted process really uses.
    slot.spec = { ...slot.spec, port, env: { ...slot.spec.env, PORT: String(port) } };
  }

  private onHealth(
    slot: Slot,
    gen: number,
    status: 'healthy' | 'unhealthy',
    output?: string,
  ): void {
    if (gen !== slot.generation || slot.info.state !== 'running') return;
    slot.info.health = status;
    slot.info.healthOutput = output?.trim() || undefined;
    this.emitReplica(slot);
    if (status === 'healthy') {
      this.markReady(slot);
    } else {
      this.markUnready(slot, 'unhealthy');
      const st = this.state(slot.service);
      // A successor that turns unhealthy fails its rolling restart instead (engine.ts).
      if (
        !slot.successorOf &&
        st.service.herd.healUnhealthy &&
        st.service.restart.condition !== 'no'
      ) {
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
    const killed = slot.killedWith;
    slot.killedWith = undefined;
    if (slot.successorOf) {
      // A successor that exits before it took over is simply not used (engine.ts reports it).
      this.setState(slot, 'exited', intent === 'stop' ? 'stopped' : describeExit(exit));
    } else if (intent === 'scale') {
      this.setState(slot, 'removed', 'scaled down');
      st.slots.delete(slot.index);
      this.dropSuccessor(slot);
    } else if (intent === 'replaced') {
      this.handOver(st, slot);
    } else if (intent === 'stop') {
      this.setState(slot, 'exited', 'stopped');
      this.dropSuccessor(slot);
    } else if (intent === 'dependency') {
      this.setState(slot, 'waiting', 'restarting: a dependency was restarted');
    } else if (intent === 'restart') {
      this.setState(slot, 'waiting', 'restarting');
    } else if (killed && isManualKill(killed, st.service)) {
      // As `docker kill`: the restart policy does not bring it back (Engine.killServices).
      this.setState(slot, 'exited', `killed (${killed})`);
      this.notice(
        slot,
        `${shortName(slot)} exited with code ${exit.exitCode} (killed with ${killed})`,
      );
    } else {
      this.applyPolicy(st, slot, exit, uptime, killed !== undefined, intent === 'unhealthy');
    }
    this.reconcile();
  }

  private applyPolicy(
    st: ServiceState,
    slot: Slot,
    exit: ExitInfo,
    uptimeMs: number,
    killedByUser: boolean,
    unhealthy: boolean,
  ): void {
    const policy = st.service.restart;
    const decision = decideRestart({
      policy,
      exit,
      attempts: slot.attempts,
      uptimeMs,
      // Docker marks a killed container manually stopped: unless-stopped leaves it down.
      stoppedByUser:
        this.shuttingDown || !st.active || (killedByUser && policy.condition === 'unless-stopped'),
      unhealthy,
    });
    slot.attempts = decision.attempts;
    const what =
      exit.startError !== undefined
        ? `could not start: ${exit.startError}`
        : unhealthy
          ? `was unhealthy and stopped with code ${exit.exitCode}`
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

  /** The old replica of a start-first restart is gone: its successor takes the slot, its name
   * and number over. Without a running successor the slot simply starts again. */
  private handOver(st: ServiceState, old: Slot): void {
    const next = old.successor;
    old.successor = undefined;
    if (!next || next.info.state !== 'running' || this.shuttingDown) {
      old.successor = next;
      this.dropSuccessor(old);
      if (old.info.state !== 'waiting') {
        this.setState(old, 'waiting', 'restarting: its replacement is gone');
      }
      return;
    }
    this.setState(old, 'removed', 'replaced');
    const temp = snapshot(next.info);
    st.slots.set(old.index, next);
    next.successorOf = undefined;
    next.info.name = old.info.name;
    next.info.restarts = old.info.restarts;
    next.runtimeName = undefined;
    this.emitReplica(next);
    // Ready under the name first, so the ready count never dips during the rename.
    if (next.ready)
      this.emit({ type: 'ready', at: this.clock.now(), replica: snapshot(next.info) });
    if (next.ready)
      this.emit({ type: 'unready', at: this.clock.now(), replica: temp, reason: 'renamed' });
    const gone: ReplicaInfo = { ...temp, state: 'removed', pid: undefined };
    gone.reason = `took over ${old.info.name}`;
    this.emit({ type: 'replica', at: this.clock.now(), replica: gone });
  }

  /** Stops a successor that will not take over, then drops it from view. */
  protected dropSuccessor(slot: Slot): void {
    const next = slot.successor;
    if (!next) return;
    slot.successor = undefined;
    this.task(
      next,
      this.stopSlot(next, 'stop').then(() => this.discard(next)),
    );
  }

  protected discard(next: Slot): void {
    next.timer?.cancel();
    next.generation++;
    if (next.successorOf?.successor === next) next.successorOf.successor = undefined;
    if (next.info.state !== 'removed') this.setState(next, 'removed', 'replacement not used');
  }

  /** Stops one replica on purpose; resolves once it is exited, removed or re-gated. */
  protected async stopSlot(slot: Slot, intent: StopIntent, graceMs?: number): Promise<void> {
    const state = slot.info.state;
    const st = this.state(slot.service);
    if (state === 'removed') return;
    if (state === 'waiting' || state === 'exited' || state === 'backoff') {
      slot.timer?.cancel();
      slot.timer = undefined;
      slot.generation++;
      if (intent === 'replaced') {
        this.handOver(st, slot);
      } else if (intent === 'restart') {
        if (state !== 'waiting') this.setState(slot, 'waiting', 'restarting');
      } else if (intent === 'scale') {
        this.setState(slot, 'removed', 'scaled down');
        st.slots.delete(slot.index);
        this.dropSuccessor(slot);
      } else {
        if (state !== 'exited') this.setState(slot, 'exited', 'stopped');
        this.dropSuccessor(slot);
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
        // The drainer takes it out of the pool itself (synchronously), then waits for in-flight
        // requests; listeners hear `unready` right after.
        const drained = this.drainer?.(
          snapshot(slot.info),
          graceMs ?? st.service.stopGracePeriodMs,
        );
        this.markUnready(slot, 'draining');
        await drained?.catch(() => undefined);
      }
      this.markUnready(slot, 'stopping');
      const handle = slot.handle;
      if (slot.info.state === 'running' && handle) {
        slot.health?.stop();
        slot.health = undefined;
        this.setState(slot, 'stopping', 'stopping');
        void handle.stop(graceMs);
      }
    }
    await idle;
  }

  protected task(slot: Slot, work: Promise<void>): void {
    work.catch((err: unknown) => this.internalError(slot, err));
  }

  /** A bug in the engine must not take herd (and every other replica) down with it. */
  private internalError(slot: Slot, err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    this.notice(slot, `herd internal error while supervising ${shortName(slot)}: ${text}`);
  }

  // ---- state and events ----

  protected setState(slot: Slot, to: ReplicaState, reason?: string): void {
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
    slot.info.ready = true;
    this.emit({ type: 'ready', at: this.clock.now(), replica: snapshot(slot.info) });
  }

  private markUnready(slot: Slot, reason: string): void {
    if (!slot.ready) return;
    slot.ready = false;
    slot.info.ready = false;
    this.emit({ type: 'unready', at: this.clock.now(), replica: snapshot(slot.info), reason });
  }

  protected emitReplica(slot: Slot): void {
    this.emit({ type: 'replica', at: this.clock.now(), replica: snapshot(slot.info) });
  }

  protected notice(slot: Slot | { service: string; name?: string }, message: string): void {
    const name = 'info' in slot ? slot.logName : slot.name;
    this.emit({ type: 'notice', at: this.clock.now(), service: slot.service, name, message });
  }

  /** Every desired replica of the service has been started, or failed for good. */
  protected settled(name: string): boolean {
    const st = this.state(name);
    for (let i = 1; i <= st.desired; i++) {
      const slot = st.slots.get(i);
      if (!slot) return false;
      const s = slot.info.state;
      if (s === 'waiting' || (s === 'starting' && !slot.everStarted)) return false;
    }
    return true;
  }

  protected state(name: string): ServiceState {
    const st = this.services.get(name);
    if (!st) {
      throw new HerdError(
        `no such service: ${name} (services: ${[...this.services.keys()].join(', ')})`,
      );
    }
    return st;
  }

  protected runtimeFor(service: Service): Runtime {
    const r = this.opts.runtime;
    return typeof r === 'function' ? r(service) : r;
  }

  /** Refuses up front what can never run, with what to do about it. */
  protected checkRunnable(service: Service): void {
    if (this.runtimeFor(service).kind === 'process') processCommand(service);
  }
}
