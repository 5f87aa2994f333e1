// The two long-running actions of the replica state machine: starting a replica through its
// runtime (plan, adopt what already runs, or start), and watching whether it is ready (health,
// or accepting connections). Their outcomes come back to the machine as events.
import type { Project, Service } from '../compose/model.ts';
import { planReplica, type ServiceAddresses } from '../runtime/env.ts';
import type { ReplicaHandle, Runtime } from '../runtime/types.ts';
import type { Clock } from '../util/clock.ts';
import type { EventHub } from './event-hub.ts';
import type { HealthWatchFactory } from './health-watch.ts';
import { listenTarget, type ListenTarget, type ListenWatchFactory } from './listening.ts';
import type { AdoptedAddress, ReplicaEvent } from './replica-steps.ts';
import { serviceHash } from './service-hash.ts';
import { shortName, type Slot } from './slot.ts';

/** Lines of output a slot keeps for the message of a failed update. */
const RECENT_OUTPUT_LINES = 10;

/** How long a replica may run without listening before herd says so (it still waits). */
export const NOT_LISTENING_NOTICE_MS = 30_000;

export interface StartOptions {
  serviceAddresses?: ServiceAddresses;
  /** Environment replicas inherit (default: herd's own). */
  baseEnv?: Record<string, string | undefined>;
}

export interface StarterDeps extends StartOptions {
  hub: EventHub;
  clock: Clock;
  project: () => Project;
  runtimeFor: (service: Service) => Runtime;
  healthWatch: HealthWatchFactory;
  listenWatch: ListenWatchFactory;
  /** Runs detached work, reporting a failure instead of losing it. */
  task: (slot: Slot, work: Promise<void>) => void;
}

type Dispatch = (slot: Slot, event: ReplicaEvent, gen: number) => void;

export class ReplicaStarter {
  /** Slots (`svc#n`) already started once in this engine's life: only a first start adopts. */
  private readonly startedOnce = new Set<string>();

  constructor(
    private readonly deps: StarterDeps,
    private readonly dispatch: Dispatch,
  ) {}

  private service(slot: Slot): Service {
    const project = this.deps.project();
    const service = project.services[slot.service];
    if (!service) throw new Error(`service ${slot.service} is gone`);
    return service;
  }

  /** Plans the replica, adopts it when an earlier herd left it running, else starts it. */
  async start(slot: Slot, gen: number): Promise<void> {
    const service = this.service(slot);
    let handle: ReplicaHandle | undefined;
    let adoptedPorts: AdoptedAddress | undefined;
    try {
      const runtime = this.deps.runtimeFor(service);
      const plan = await planReplica(this.deps.project(), service, slot.index, {
        serviceAddresses: this.deps.serviceAddresses,
        baseEnv: this.deps.baseEnv,
        allowImageDefault: runtime.kind === 'docker',
      });
      if (slot.runtimeName) plan.spec.name = slot.runtimeName;
      if (gen !== slot.generation) return;
      const definition = serviceHash(service);
      plan.spec.definition = definition;
      this.dispatch(
        slot,
        { type: 'planned', spec: plan.spec, port: plan.spec.port, ports: plan.ports, definition },
        gen,
      );
      const key = `${slot.service}#${slot.index}`;
      if (!slot.successorOf && !this.startedOnce.has(key)) {
        this.startedOnce.add(key);
        handle = await runtime.adopt?.(plan.spec);
        if (handle) adoptedPorts = adoptedAddress(slot, handle, runtime.kind);
      }
      if (gen !== slot.generation && !handle) return;
      handle ??= await runtime.start(plan.spec);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.dispatch(slot, { type: 'exited', exit: { exitCode: 126, startError: message } }, gen);
      return;
    }
    if (gen !== slot.generation) {
      void handle.stop();
      return;
    }
    this.follow(slot, gen, handle);
    if (handle.startError !== undefined) return;
    this.dispatch(slot, { type: 'started', handle, adopted: !!adoptedPorts, adoptedPorts }, gen);
  }

  /** Output and the exit of a started replica flow back as events. */
  private follow(slot: Slot, gen: number, handle: ReplicaHandle): void {
    handle.onOutput((stream, line) => {
      slot.recentOutput.push(line);
      if (slot.recentOutput.length > RECENT_OUTPUT_LINES) slot.recentOutput.shift();
      this.deps.hub.emit({
        type: 'output',
        at: this.deps.clock.now(),
        service: slot.service,
        name: slot.logName,
        stream,
        line,
      });
    });
    this.deps.task(
      slot,
      handle.exited.then((exit) => this.dispatch(slot, { type: 'exited', exit }, gen)),
    );
  }

  /** A running replica is ready when healthy (with a healthcheck), when it accepts connections
   * (a service with ports/expose), else at once. */
  watch(slot: Slot, gen: number): void {
    const service = this.service(slot);
    const check = service.healthcheck;
    if (check?.test && slot.spec && slot.handle) {
      slot.health = this.deps.healthWatch({
        check,
        spec: slot.spec,
        clock: this.deps.clock,
        startedAt: slot.info.startedAt ?? this.deps.clock.now(),
        handle: slot.handle,
        onChange: (status, output) => this.dispatch(slot, { type: 'health', status, output }, gen),
      });
      return;
    }
    const target = listenTarget(service, slot.info, slot.handle?.innerPorts);
    if (!target) {
      this.dispatch(slot, { type: 'listening' }, gen);
      return;
    }
    this.deps.task(slot, this.whenListening(slot, gen, target));
  }

  /** No deadline: one that never listens never takes traffic (and herd says so after a while). */
  private async whenListening(slot: Slot, gen: number, target: ListenTarget): Promise<void> {
    const current = () => gen === slot.generation && slot.phase === 'running';
    const where = `${target.host}:${target.port}`;
    const slow = this.deps.clock.setTimeout(() => {
      if (!current() || slot.ready) return;
      this.deps.hub.emit({
        type: 'notice',
        at: this.deps.clock.now(),
        service: slot.service,
        name: slot.logName,
        message: `${shortName(slot)} is running but not listening on ${where} yet`,
      });
    }, NOT_LISTENING_NOTICE_MS);
    try {
      const ok = await this.deps.listenWatch({
        ...target,
        clock: this.deps.clock,
        gone: () => !current(),
      });
      if (ok && current()) this.dispatch(slot, { type: 'listening' }, gen);
    } finally {
      slow.cancel();
    }
  }
}

/** An adopted replica listens where it was started, not where this plan would put it. */
function adoptedAddress(slot: Slot, handle: ReplicaHandle, kind: Runtime['kind']): AdoptedAddress {
  const out: AdoptedAddress = {};
  if (handle.hostPorts) out.ports = { ...handle.hostPorts };
  const port = handle.address?.port;
  if (port === undefined || kind !== 'process' || !slot.spec) return out;
  out.port = port;
  // Health probes read $PORT: it must be the port the adopted process really uses.
  out.spec = { ...slot.spec, port, env: { ...slot.spec.env, PORT: String(port) } };
  // Targets this plan put on its PORT are where the process listens (readiness, the balancer).
  const planned = slot.spec.port;
  out.ports = Object.fromEntries(
    Object.entries(slot.info.ports).map(([target, p]) => [target, p === planned ? port : p]),
  );
  return out;
}
