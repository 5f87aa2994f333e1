// herd's load balancer for a whole project: one listener per published/exposed port, fed by
// the engine's ready/unready events, with a drainer the engine calls before stopping a replica.
import type { Project, Service } from '../compose/model.ts';
import { HerdError } from '../util/errors.ts';
import { safeDelay } from '../util/timers.ts';
import { ReplicaCounters, sumStats } from './counters.ts';
import type { ReplicaStats } from './counters.ts';
import { DEFAULT_HTTP_LIMITS } from './http-limits.ts';
import { drainMembers } from './drain.ts';
import { modeFor } from './listener.ts';
import { bindAll, makeEntry, planEntries, sameListener } from './port-plan.ts';
import type { Entry, ListenSettings } from './port-plan.ts';
import { readProxySettings } from './settings.ts';
import type {
  Drainer,
  EngineLike,
  PortMapping,
  Proxy,
  ProxyOptions,
  RoutedReplica,
} from './types.ts';
import { WorkerPool } from './workers.ts';

export function createProxy(project: Project, opts: ProxyOptions = {}): Proxy {
  return new ProjectProxy(project, opts);
}

class ProjectProxy implements Proxy {
  private entries: Entry[] = [];
  private readonly counters = new Map<string, ReplicaCounters>();
  private readonly settings: ListenSettings;
  private sweeper: NodeJS.Timeout | undefined;
  private listening = false;
  readonly warnings: string[] = [];
  private readonly warnFn: (m: string) => void;
  private readonly workers: number;
  private pool: WorkerPool | undefined;
  /** Entries [0, poolEntries) are served by the worker pool too (those bound at listen()). */
  private poolEntries = 0;
  /** Replicas in the pools now, so that a port added by apply() starts with them. */
  private readonly readyReplicas = new Map<string, RoutedReplica>();
  /** `<service>#<index>` of replicas whose direct ports are being bound. */
  private readonly binding = new Set<string>();

  constructor(
    private project: Project,
    private readonly opts: ProxyOptions,
  ) {
    this.settings = {
      limits: { ...DEFAULT_HTTP_LIMITS, ...opts.limits },
      sniffMs: opts.sniffMs ?? 300,
    };
    this.warnFn = opts.warn ?? ((m) => process.stderr.write(`herd: warning: ${m}\n`));
    this.workers = opts.workers ?? readProxySettings(project).workers;
  }

  private readonly warn = (m: string): void => {
    this.warnings.push(m);
    this.warnFn(m);
  };

  private plan(): Entry[] {
    return planEntries(this.project, this.settings, this.warn);
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
    // Worker processes serve the ports bound at start by their position; they cannot let go of
    // one, so a file that drops one of those needs a fresh start.
    const pinned = dropped.filter((e) => this.pool && this.entries.indexOf(e) < this.poolEntries);
    if (pinned.length > 0) {
      this.project = before;
      const e = pinned[0]!;
      throw new HerdError(
        `service "${e.service.name}": port ${e.listener.boundPort} changed or went away, which the ` +
          'balancer cannot follow while x-herd.proxy.workers > 1; run `herd down`, then `herd up`',
        'CONFLICT',
      );
    }
    // A port the file keeps but with other settings (host IP, target, protocol, balancing): the
    // old listener lets go of it first, its open connections finish on the old settings.
    const handedOver = dropped.filter(
      (d) =>
        d.listener.opts.port !== 0 &&
        added.some((a) => a.listener.opts.port === d.listener.opts.port),
    );
    for (const d of handedOver) d.listener.stopAccepting();
    try {
      await bindAll(added);
    } catch (err) {
      this.project = before;
      await Promise.all(handedOver.map((d) => d.listener.listen().catch(() => undefined)));
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
      for (const e of dropped) {
        e.balancer.cancelWaiters();
        for (const m of e.balancer.allMembers()) m.closeIdle();
      }
      await Promise.all(dropped.map((e) => e.listener.close()));
      this.entries = this.entries.filter((e) => !dropped.includes(e));
    };
  }

  async listen(): Promise<void> {
    if (this.listening) return;
    const bound = this.plan();
    await bindAll(bound);
    this.entries = bound;
    this.listening = true;
    const idleMs = this.opts.upstreamIdleMs ?? 4000;
    if (this.workers > 1 && bound.length > 0) {
      this.pool = new WorkerPool({
        count: this.workers - 1,
        init: {
          t: 'init',
          entries: bound.map((e) => ({
            service: e.service.name,
            lb: e.balancer.lb,
            mode: e.listener.opts.mode,
          })),
          limits: this.settings.limits,
          sniffMs: this.settings.sniffMs,
          upstreamIdleMs: idleMs,
        },
        servers: bound.map((e) => e.listener.server),
        warn: this.warn,
      });
      this.poolEntries = bound.length;
      await this.pool.start();
    }
    this.sweeper = setInterval(
      () => {
        for (const e of this.entries) e.balancer.sweepIdle(idleMs);
      },
      Math.max(250, Math.floor(idleMs / 4)),
    );
    this.sweeper.unref();
  }

  serviceAddresses(): Record<string, { host: string; port: number }> {
    const out: Record<string, { host: string; port: number }> = {};
    for (const e of this.entries) {
      if (e.kind === 'direct' || e.retiring || out[e.service.name]) continue;
      // A wildcard bind is reachable on loopback; a specific host IP only on itself.
      const h = e.listener.opts.host;
      const host = h === '0.0.0.0' || h === '::' || h === '' ? '127.0.0.1' : h;
      out[e.service.name] = { host, port: e.listener.boundPort };
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
          hostIp: e.listener.opts.host,
          hostPort: e.listener.boundPort,
        };
        if (e.index !== undefined) m.index = e.index;
        return m;
      });
  }

  private countersFor(r: RoutedReplica): ReplicaCounters {
    let c = this.counters.get(r.name);
    if (!c) {
      c = new ReplicaCounters(r.name, r.service);
      this.counters.set(r.name, c);
    }
    return c;
  }

  private addMember(e: Entry, r: RoutedReplica): void {
    const port = r.ports[e.target] ?? r.port;
    if (port === undefined) return;
    e.balancer.add(r.name, r.host, port, this.countersFor(r));
    const i = this.entries.indexOf(e);
    if (this.pool && i >= 0 && i < this.poolEntries)
      this.pool.add(i, r.name, r.service, r.host, port);
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
      const e = makeEntry(
        this.settings,
        svc,
        p.target,
        'direct',
        p.hostIp ?? '0.0.0.0',
        0,
        modeFor(p.appProtocol),
        r.index,
      );
      try {
        await e.listener.listen();
      } catch (err) {
        this.warn(
          `service "${svc.name}": cannot bind a port for ${r.name}: ${(err as Error).message}`,
        );
        continue;
      }
      if (!this.listening) {
        await e.listener.close();
        return;
      }
      this.entries.push(e);
      const port = r.ports[p.target] ?? r.port;
      if (port !== undefined) e.balancer.add(r.name, r.host, port, this.countersFor(r));
    }
  }

  replicaUnready(r: RoutedReplica): void {
    this.readyReplicas.delete(r.name);
    for (const e of this.entries) if (e.service.name === r.service) e.balancer.remove(r.name);
    this.pool?.remove(r.name, r.service);
  }

  readonly drain: Drainer = (r, timeoutMs) => {
    this.readyReplicas.delete(r.name);
    const members = this.entries
      .filter((e) => e.service.name === r.service)
      .map((e) => e.balancer.remove(r.name))
      .filter((m) => m !== undefined);
    const waits = [drainMembers(members)];
    if (this.pool) waits.push(this.pool.drain(r.name, r.service));
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, safeDelay(timeoutMs));
      void Promise.all(waits).then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  attach(engine: EngineLike): void {
    engine.on('event', (e) => {
      if (!e.replica) return;
      if (e.type === 'ready') this.replicaReady(e.replica);
      else if (e.type === 'unready') this.replicaUnready(e.replica);
    });
    engine.setDrainer(this.drain);
  }

  stats(): ReplicaStats[] {
    const own = [...this.counters.values()].map((c) => c.snapshot());
    return this.pool ? sumStats(own, this.pool.stats()) : own;
  }

  workerPids(): number[] {
    return this.pool?.pids ?? [];
  }

  async close(): Promise<void> {
    this.listening = false;
    if (this.sweeper) clearInterval(this.sweeper);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
    for (const e of this.entries) {
      e.balancer.cancelWaiters();
      for (const m of e.balancer.allMembers()) m.closeIdle();
    }
    await Promise.all(this.entries.map((e) => e.listener.close()));
    this.entries = [];
  }
}
