// herd's load balancer for a whole project: one listener per published/exposed port, fed by
// the engine's ready/unready events, with a drainer the engine calls before stopping a replica.
// It decides (which ports, which members); a DataPlane serves: in this process, or in a proxy
// process group of its own (x-herd.proxy.workers, or `process`), which the daemon uses.
import type { Project, Service } from '../compose/model.ts';
import { safeDelay } from '../util/timers.ts';
import type { ReplicaStats } from './counters.ts';
import { DEFAULT_HTTP_LIMITS } from './http-limits.ts';
import { modeFor } from './listener.ts';
import { LocalPlane } from './local-plane.ts';
import type { DataPlane, PlaneSettings } from './plane.ts';
import { bindAll, makeEntry, planEntries, sameListener } from './port-plan.ts';
import type { Entry } from './port-plan.ts';
import { ProcessPlane } from './process/process-plane.ts';
import { readProxySettings } from './settings.ts';
import type {
  Drainer,
  EngineLike,
  IngressPlan,
  PortMapping,
  Proxy,
  ProxyOptions,
  RoutedReplica,
} from './types.ts';

/** Default slow-start window of a replica joining a pool that already serves. */
export const DEFAULT_SLOW_START_MS = 2000;

export function createProxy(project: Project, opts: ProxyOptions = {}): Proxy {
  return new ProjectProxy(project, opts);
}

class ProjectProxy implements Proxy {
  private entries: Entry[] = [];
  private listening = false;
  readonly warnings: string[] = [];
  private readonly warnFn: (m: string) => void;
  private readonly plane: DataPlane & { start?: () => Promise<void> };
  /** Replicas in the pools now, so that a port added by apply() starts with them. */
  private readonly readyReplicas = new Map<string, RoutedReplica>();
  /** `<service>#<index>` of replicas whose direct ports are being bound. */
  private readonly binding = new Set<string>();
  /** What wakes a service scaled to zero (attach()). */
  private engine?: EngineLike;

  constructor(
    private project: Project,
    private readonly opts: ProxyOptions,
  ) {
    const settings: PlaneSettings = {
      limits: { ...DEFAULT_HTTP_LIMITS, ...opts.limits },
      sniffMs: opts.sniffMs ?? 300,
      upstreamIdleMs: opts.upstreamIdleMs ?? 4000,
      slowStartMs: opts.slowStartMs ?? DEFAULT_SLOW_START_MS,
    };
    this.warnFn = opts.warn ?? ((m) => process.stderr.write(`herd: warning: ${m}\n`));
    const workers = opts.workers ?? readProxySettings(project).workers;
    // More than one worker always means a process group: this process never serves beside it.
    const onHold = (service: string) => this.engine?.wake?.(service);
    this.plane =
      opts.process || workers > 1
        ? new ProcessPlane({ ...opts.process, settings, workers, warn: this.warn, onHold })
        : new LocalPlane(settings, onHold);
  }

  /** A listener of a service that scales to zero holds requests while a replica starts. */
  private withHold(e: Entry): Entry {
    const ms = this.opts.holdFor?.(e.service);
    if (ms !== undefined) e.spec.holdMs = ms;
    return e;
  }

  private readonly warn = (m: string): void => {
    this.warnings.push(m);
    this.warnFn(m);
  };

  private plan(): Entry[] {
    return planEntries(this.project, this.warn).map((e) => this.withHold(e));
  }

  async apply(next: Project): Promise<() => Promise<void>> {
    const before = this.project;
    this.project = next;
    let planned: Entry[];
    try {
      planned = this.plan();
    } catch (err) {
      this.project = before;
      throw err;
    }
    const kept = new Map<Entry, Entry>(); // old entry → the planned one it stands for
    for (const p of planned) {
      const old = this.entries.find((e) => !kept.has(e) && !e.retiring && sameListener(e, p));
      if (old) kept.set(old, p);
    }
    const stays = new Set(kept.values());
    const added = planned.filter((p) => !stays.has(p));
    const dropped = this.entries.filter((e) => !kept.has(e) && !e.retiring);
    // A port the file keeps but with other settings (host IP, target, protocol, balancing): the
    // old listener lets go of it first, its open connections finish on the old settings.
    const handedOver = dropped.filter(
      (d) => d.spec.port !== 0 && added.some((a) => a.spec.port === d.spec.port),
    );
    await Promise.all(handedOver.map((d) => this.plane.stopAccepting(d.spec.id)));
    try {
      await bindAll(this.plane, added);
    } catch (err) {
      this.project = before;
      await Promise.all(handedOver.map((d) => this.plane.resume(d.spec.id).catch(() => undefined)));
      throw err;
    }
    for (const [old, p] of kept) old.service = p.service;
    for (const e of dropped) e.retiring = true;
    this.entries.push(...added);
    // Replicas already serving a service that gained a port join it now; replicas of a changed
    // service are replaced by the engine and join through their `ready` events.
    for (const e of added)
      for (const r of this.readyReplicas.values())
        if (r.service === e.service.name && (e.kind !== 'direct' || e.index === r.index))
          this.addMember(e, r);
    return async () => {
      await Promise.all(dropped.map((e) => this.plane.close(e.spec.id)));
      this.entries = this.entries.filter((e) => !dropped.includes(e));
    };
  }

  async listen(): Promise<void> {
    if (this.listening) return;
    const bound = this.plan();
    await this.plane.start?.();
    try {
      await bindAll(this.plane, bound);
    } catch (err) {
      await this.plane.shutdown();
      throw err;
    }
    this.entries = bound;
    this.listening = true;
  }

  serviceAddresses(): Record<string, { host: string; port: number }> {
    const out: Record<string, { host: string; port: number }> = {};
    for (const e of this.entries) {
      // Services reach each other through their published or exposed pools, not the ingress's.
      if (e.kind === 'direct' || e.kind === 'ingress' || e.retiring || out[e.service.name])
        continue;
      // A wildcard bind is reachable on loopback; a specific host IP only on itself.
      const h = e.spec.host;
      const host = h === '0.0.0.0' || h === '::' || h === '' ? '127.0.0.1' : h;
      out[e.service.name] = { host, port: e.boundPort };
    }
    return out;
  }

  ports(): PortMapping[] {
    return this.entries
      .filter((e) => !e.retiring)
      .map((e) => {
        const m: PortMapping = {
          service: e.service.name,
          target: e.target,
          kind: e.kind,
          hostIp: e.spec.host,
          hostPort: e.boundPort,
        };
        if (e.index !== undefined) m.index = e.index;
        return m;
      });
  }

  private addMember(e: Entry, r: RoutedReplica): void {
    const port = r.ports[e.target] ?? r.port;
    if (port === undefined) return;
    this.plane.add({
      listener: e.spec.id,
      replica: r.name,
      service: r.service,
      host: r.host,
      port,
    });
  }

  /** Ids of the listeners serving `service`. */
  private listenersOf(service: string): string[] {
    return this.entries.filter((e) => e.service.name === service).map((e) => e.spec.id);
  }

  replicaReady(r: RoutedReplica): void {
    const svc = this.project.services[r.service];
    if (!svc) return;
    this.readyReplicas.set(r.name, r);
    let directFound = false;
    for (const e of this.entries) {
      if (e.service.name !== r.service) continue;
      if (e.kind === 'direct') {
        if (e.index !== r.index) continue;
        directFound = true;
      }
      this.addMember(e, r);
    }
    if (!directFound) void this.addDirectFor(svc, r);
  }

  /** A replica beyond the scale bound at listen(): give it its own ephemeral port now. */
  private async addDirectFor(svc: Service, r: RoutedReplica): Promise<void> {
    const key = `${svc.name}#${r.index}`;
    if (this.binding.has(key)) return; // a bind for this replica is under way
    this.binding.add(key);
    try {
      await this.bindDirect(svc, r);
    } finally {
      this.binding.delete(key);
    }
  }

  private async bindDirect(svc: Service, r: RoutedReplica): Promise<void> {
    for (const p of svc.ports) {
      if (p.protocol === 'udp') continue;
      if (p.published && p.published.start !== p.published.end) {
        this.warn(
          `service "${svc.name}": replica ${r.name} has no host port left in ${p.published.start}-${p.published.end}; it gets no published port`,
        );
        continue;
      }
      if (p.published) continue;
      const e = this.withHold(
        makeEntry(
          svc,
          p.target,
          'direct',
          p.hostIp ?? '0.0.0.0',
          0,
          modeFor(p.appProtocol),
          r.index,
        ),
      );
      try {
        e.boundPort = await this.plane.open(e.spec);
      } catch (err) {
        this.warn(
          `service "${svc.name}": cannot bind a port for ${r.name}: ${(err as Error).message}`,
        );
        continue;
      }
      if (!this.listening) {
        await this.plane.close(e.spec.id);
        return;
      }
      this.entries.push(e);
      this.addMember(e, r);
    }
  }

  replicaUnready(r: RoutedReplica): void {
    this.readyReplicas.delete(r.name);
    this.plane.remove(r.name, this.listenersOf(r.service));
  }

  readonly drain: Drainer = (r, timeoutMs) => {
    this.readyReplicas.delete(r.name);
    const drained = this.plane.drain(r.name, this.listenersOf(r.service));
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, safeDelay(timeoutMs));
      void drained.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        () => undefined,
      );
    });
  };

  attach(engine: EngineLike): void {
    engine.on('event', (e) => {
      if (!e.replica) return;
      if (e.type === 'ready') this.replicaReady(e.replica);
      else if (e.type === 'unready') this.replicaUnready(e.replica);
    });
    engine.setDrainer(this.drain);
    this.engine = engine;
  }

  stats(): ReplicaStats[] {
    return this.plane.stats();
  }

  counters(): Promise<ReplicaStats[]> {
    return this.plane.counters();
  }

  workerPids(): number[] {
    return this.plane.pids();
  }

  primaryPid(): number | undefined {
    return this.plane instanceof ProcessPlane ? this.plane.primaryPid : undefined;
  }

  adoptedProxy(): boolean {
    return this.plane instanceof ProcessPlane && this.plane.adopted;
  }

  settle(keepReplicas: string[]): Promise<void> {
    return this.plane.settle(keepReplicas);
  }

  ingress(plan: IngressPlan | null): Promise<void> {
    if (!plan) return this.plane.ingress(null);
    const pools: Record<string, string> = {};
    for (const e of this.entries)
      if (e.kind === 'ingress' && !e.retiring) pools[`${e.service.name}:${e.target}`] = e.spec.id;
    return this.plane.ingress({ ...plan, pools });
  }

  async close(): Promise<void> {
    this.listening = false;
    this.entries = [];
    await this.plane.shutdown();
  }
}
