// The data plane in this process: one ProxyListener and Balancer per listener, per-replica
// counters. Serves on its own (createProxy without a process) and inside each proxy worker
// process, where the listening sockets come bound from the primary.
import net from 'node:net';
import { Balancer } from './balancer.ts';
import { ReplicaCounters } from './counters.ts';
import type { ReplicaStats } from './counters.ts';
import { drainMembers } from './drain.ts';
import { IngressRunner } from './ingress/runner.ts';
import { ProxyListener } from './listener.ts';
import type {
  DataPlane,
  EndpointSpec,
  IngressConfig,
  ListenerSpec,
  PlaneSettings,
} from './plane.ts';

interface Slot {
  spec: ListenerSpec;
  balancer: Balancer;
  listener: ProxyListener;
}

export class LocalPlane implements DataPlane {
  private readonly slots = new Map<string, Slot>();
  private readonly perReplica = new Map<string, ReplicaCounters>();
  private readonly sweeper: NodeJS.Timeout;
  /** The ingress, in this process too when the plane is (a proxy worker never gets one). */
  private readonly ingressRunner = new IngressRunner((id) => {
    const s = this.slots.get(id);
    return s && { host: s.spec.host, port: s.listener.boundPort };
  });

  /** `onHold`: a listener with no replica holds a request (see BalancerOptions.onHold). */
  constructor(
    readonly settings: PlaneSettings,
    private readonly onHold?: (service: string) => void,
  ) {
    const idleMs = settings.upstreamIdleMs;
    this.sweeper = setInterval(
      () => {
        for (const s of this.slots.values()) s.balancer.sweepIdle(idleMs);
      },
      Math.max(250, Math.floor(idleMs / 4)),
    );
    this.sweeper.unref();
  }

  private slot(spec: ListenerSpec, adopted?: net.Server): Slot {
    const balancer = new Balancer({
      service: spec.service,
      lb: spec.lb,
      slowStartMs: this.settings.slowStartMs,
      ...(this.onHold && { onHold: this.onHold }),
    });
    const { limits } = this.settings;
    const listener = new ProxyListener(
      {
        host: spec.host,
        port: spec.port,
        mode: spec.mode,
        balancer,
        limits: spec.holdMs === undefined ? limits : { ...limits, holdMs: spec.holdMs },
        sniffMs: this.settings.sniffMs,
        keepForwarded: spec.keepForwarded,
      },
      adopted,
    );
    const s = { spec, balancer, listener };
    this.slots.set(spec.id, s);
    return s;
  }

  async open(spec: ListenerSpec): Promise<number> {
    const s = this.slot(spec);
    try {
      return await s.listener.listen();
    } catch (err) {
      this.slots.delete(spec.id);
      throw err;
    }
  }

  /** Serve a socket another process bound (a proxy worker's listeners). */
  adopt(spec: ListenerSpec, server: net.Server): void {
    const old = this.slots.get(spec.id);
    if (old) {
      // The primary bound it again after stopAccepting: same pool, new socket.
      old.listener.adoptAgain(server);
      return;
    }
    this.slot(spec, server);
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  async stopAccepting(id: string): Promise<void> {
    this.slots.get(id)?.listener.stopAccepting();
  }

  async resume(id: string): Promise<void> {
    await this.slots.get(id)?.listener.listen();
  }

  async close(id: string): Promise<void> {
    const s = this.slots.get(id);
    if (!s) return;
    this.slots.delete(id);
    s.balancer.cancelWaiters();
    for (const m of s.balancer.allMembers()) m.closeIdle();
    await s.listener.close();
  }

  private countersFor(replica: string, service: string): ReplicaCounters {
    let c = this.perReplica.get(replica);
    if (!c) {
      c = new ReplicaCounters(replica, service);
      this.perReplica.set(replica, c);
    }
    return c;
  }

  add(e: EndpointSpec): void {
    const s = this.slots.get(e.listener);
    if (s) s.balancer.add(e.replica, e.host, e.port, this.countersFor(e.replica, e.service));
  }

  remove(replica: string, listeners: string[]): void {
    for (const id of listeners) this.slots.get(id)?.balancer.remove(replica);
  }

  drain(replica: string, listeners: string[]): Promise<void> {
    const members = listeners
      .map((id) => this.slots.get(id)?.balancer.remove(replica))
      .filter((m) => m !== undefined);
    return drainMembers(members);
  }

  stats(): ReplicaStats[] {
    return [...this.perReplica.values()].map((c) => c.snapshot());
  }

  async counters(): Promise<ReplicaStats[]> {
    return this.stats();
  }

  pids(): number[] {
    return [];
  }

  /** Nothing to adopt in this process: its table is always the daemon's own. */
  async settle(): Promise<void> {}

  ingress(config: IngressConfig | null): Promise<void> {
    return this.ingressRunner.apply(config);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.ingressRunner.close();
    await Promise.all([...this.slots.keys()].map((id) => this.close(id)));
  }
}
