// herd's load balancer for a whole project: one listener per published/exposed port, fed by
// the engine's ready/unready events, with a drainer the engine calls before stopping a replica.
import type { Project, Service } from '../compose/model.ts';
import type { Drainer, EngineEvent, ReplicaInfo } from '../engine/events.ts';
import { HerdError } from '../util/errors.ts';
import { safeDelay } from '../util/timers.ts';
import { checkScaleLimit } from '../engine/scale-limit.ts';
import { Balancer } from './balancer.ts';
import { ReplicaCounters, sumStats } from './counters.ts';
import type { ReplicaStats } from './counters.ts';
import { DEFAULT_HTTP_LIMITS } from './http-session.ts';
import type { HttpLimits } from './http-session.ts';
import { drainMembers } from './drain.ts';
import { ProxyListener, modeFor } from './listener.ts';
import type { ListenMode } from './listener.ts';
import { readProxySettings } from './settings.ts';
import { WorkerPool } from './workers.ts';

export interface ProxyOptions {
  /** Limits and timeouts; `holdMs` is how long a request waits for a replica when none is ready. */
  limits?: Partial<HttpLimits>;
  sniffMs?: number;
  /** Where warnings go (UDP ports, …); default: stderr. */
  warn?: (message: string) => void;
  /** Keep-alive upstream sockets idle longer than this are closed (default 4 s, under Node's 5 s). */
  upstreamIdleMs?: number;
  /**
   * Processes serving the ports bound at listen(): this one plus `workers - 1` forked children
   * sharing the listening sockets. Default: `x-herd: { proxy: { workers } }`, else 1.
   */
  workers?: number;
}

/** One port herd serves, as `ps` / `port` report it. */
export interface PortMapping {
  service: string;
  target: number;
  /** balanced: one port for all replicas; direct: one port per replica; internal: `expose` */
  kind: 'balanced' | 'direct' | 'internal';
  /** replica index for `direct` mappings */
  index?: number;
  hostIp: string;
  hostPort: number;
}

interface Entry {
  service: Service;
  target: number;
  kind: PortMapping['kind'];
  index?: number;
  listener: ProxyListener;
  balancer: Balancer;
  /** Set by apply() for a port the new file no longer has: it still drains the replicas being
   * stopped, then closes once the engine has applied the file. */
  retiring?: boolean;
}

export interface EngineLike {
  on(ev: 'event', fn: (e: EngineEvent) => void): unknown;
  setDrainer(d: Drainer): void;
}

export interface Proxy {
  listen(): Promise<void>;
  serviceAddresses(): Record<string, { host: string; port: number }>;
  attach(engine: EngineLike): void;
  close(): Promise<void>;
  stats(): ReplicaStats[];
  ports(): PortMapping[];
  /**
   * Follow a re-applied compose file: bind the ports it adds (a taken port is an error and
   * nothing changes), keep the ones it still has with their members, and retire the ones it
   * dropped. Call before the engine applies the file; call the returned function after, to close
   * the retired ports once their replicas have drained.
   */
  apply(next: Project): Promise<() => Promise<void>>;
  /** Feed membership directly (what attach() does with engine events). */
  replicaReady(r: ReplicaInfo): void;
  replicaUnready(r: ReplicaInfo): void;
  drain: Drainer;
  readonly warnings: string[];
  /** Process ids of the extra worker processes (empty with one worker). */
  workerPids(): number[];
}

export function createProxy(project: Project, opts: ProxyOptions = {}): Proxy {
  return new ProjectProxy(project, opts);
}

class ProjectProxy implements Proxy {
  private entries: Entry[] = [];
  private readonly counters = new Map<string, ReplicaCounters>();
  private readonly limits: HttpLimits;
  private readonly sniffMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  private listening = false;
  readonly warnings: string[] = [];
  private readonly warnFn: (m: string) => void;
  private readonly workers: number;
  private pool: WorkerPool | undefined;
  /** Entries [0, poolEntries) are served by the worker pool too (those bound at listen()). */
  private poolEntries = 0;

  constructor(
    private project: Project,
    private readonly opts: ProxyOptions,
  ) {
    this.limits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
    this.sniffMs = opts.sniffMs ?? 300;
    this.warnFn = opts.warn ?? ((m) => process.stderr.write(`herd: warning: ${m}\n`));
    this.workers = opts.workers ?? readProxySettings(project).workers;
  }

  private warn(m: string): void {
    this.warnings.push(m);
    this.warnFn(m);
  }

  private entry(
    service: Service,
    target: number,
    kind: Entry['kind'],
    host: string,
    port: number,
    mode: ListenMode,
    index?: number,
  ): Entry {
    const balancer = new Balancer({
      service: service.name,
      lb: service.herd.lb,
    });
    const listener = new ProxyListener({
      host,
      port,
      mode,
      balancer,
      limits: this.limits,
      sniffMs: this.sniffMs,
    });
    const e: Entry = { service, target, kind, listener, balancer };
    if (index !== undefined) e.index = index;
    return e;
  }

  /** Build every listener the compose file asks for (nothing bound yet). */
  private plan(): Entry[] {
    const out: Entry[] = [];
    for (const svc of Object.values(this.project.services)) {
      for (const p of svc.ports) {
        if (p.protocol === 'udp') {
          this.warn(
            `service "${svc.name}": UDP port ${p.published ? `${p.published.start}:` : ''}${p.target} is not load-balanced by herd; replicas must bind it themselves`,
          );
          continue;
        }
        const mode = modeFor(p.appProtocol);
        const hostIp = p.hostIp ?? '0.0.0.0';
        if (!p.published) {
          // Ephemeral host port per replica, like Compose's "5000" (on every interface unless
          // the file names one, as Compose binds it): bound for the current scale.
          for (let i = 1; i <= svc.scale; i++)
            out.push(this.entry(svc, p.target, 'direct', hostIp, 0, mode, i));
          continue;
        }
        const { start, end } = p.published;
        if (start === end) {
          out.push(this.entry(svc, p.target, 'balanced', hostIp, start, mode));
          continue;
        }
        const width = end - start + 1;
        checkScaleLimit(svc, svc.scale);
        for (let i = 1; i <= width; i++)
          out.push(this.entry(svc, p.target, 'direct', hostIp, start + i - 1, mode, i));
      }
      for (const x of svc.expose) {
        if (x.protocol === 'udp') {
          this.warn(`service "${svc.name}": UDP expose ${x.port} is not load-balanced by herd`);
          continue;
        }
        if (
          out.some(
            (e) => e.service.name === svc.name && e.kind === 'balanced' && e.target === x.port,
          )
        )
          continue;
        out.push(this.entry(svc, x.port, 'internal', '127.0.0.1', 0, 'sniff'));
      }
    }
    return out;
  }

  /** Binds every entry, or none: on the first failure the ones bound are closed again. */
  private async bindAll(planned: Entry[]): Promise<void> {
    const bound: Entry[] = [];
    for (const e of planned) {
      try {
        await e.listener.listen();
        bound.push(e);
      } catch (err) {
        await Promise.all(bound.map((b) => b.listener.close()));
        const o = e.listener.opts;
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'EADDRINUSE'
            ? `port ${o.port} is already in use on ${o.host}; stop what uses it or change "ports" in the compose file`
            : code === 'EACCES'
              ? `no permission to bind ${o.host}:${o.port}; use a port above 1023 or run with the needed privilege`
              : `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`;
        throw new HerdError(`service "${e.service.name}": ${why}`);
      }
    }
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
      await this.bindAll(added);
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
    await this.bindAll(bound);
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
          limits: this.limits,
          sniffMs: this.sniffMs,
          upstreamIdleMs: idleMs,
        },
        servers: bound.map((e) => e.listener.server),
        warn: (m) => this.warn(m),
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

  private countersFor(r: ReplicaInfo): ReplicaCounters {
    let c = this.counters.get(r.name);
    if (!c) {
      c = new ReplicaCounters(r.name, r.service);
      this.counters.set(r.name, c);
    }
    return c;
  }

  /** Replicas in the pools now, so that a port added by apply() starts with them. */
  private readonly readyReplicas = new Map<string, ReplicaInfo>();

  private addMember(e: Entry, r: ReplicaInfo): void {
    const port = r.ports[e.target] ?? r.port;
    if (port === undefined) return;
    e.balancer.add(r.name, r.host, port, this.countersFor(r));
    const i = this.entries.indexOf(e);
    if (this.pool && i >= 0 && i < this.poolEntries)
      this.pool.add(i, r.name, r.service, r.host, port);
  }

  replicaReady(r: ReplicaInfo): void {
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
  private async addDirectFor(svc: Service, r: ReplicaInfo): Promise<void> {
    const key = `${svc.name}#${r.index}`;
    if (this.binding.has(key)) return; // a bind for this replica is under way
    this.binding.add(key);
    try {
      await this.bindDirect(svc, r);
    } finally {
      this.binding.delete(key);
    }
  }

  private readonly binding = new Set<string>();

  private async bindDirect(svc: Service, r: ReplicaInfo): Promise<void> {
    for (const p of svc.ports) {
      if (p.protocol === 'udp') continue;
      if (p.published && p.published.start !== p.published.end) {
        this.warn(
          `service "${svc.name}": replica ${r.name} has no host port left in ${p.published.start}-${p.published.end}; it gets no published port`,
        );
        continue;
      }
      if (p.published) continue;
      const e = this.entry(
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

  replicaUnready(r: ReplicaInfo): void {
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

/** Whether a planned listener is the same as one already bound: same service, port, mode and
 * balancing settings. */
function sameListener(bound: Entry, planned: Entry): boolean {
  const a = bound.listener.opts;
  const b = planned.listener.opts;
  return (
    bound.service.name === planned.service.name &&
    bound.target === planned.target &&
    bound.kind === planned.kind &&
    bound.index === planned.index &&
    a.host === b.host &&
    a.port === b.port &&
    a.mode === b.mode &&
    JSON.stringify(bound.balancer.lb) === JSON.stringify(planned.service.herd.lb)
  );
}
