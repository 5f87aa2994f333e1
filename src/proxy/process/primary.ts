// A proxy process group's primary: binds the listening sockets (bound here, accepted on only by
// the workers: this process never serves a connection, so nothing it does can delay one), keeps
// the routing table the daemon sends, replays it to every worker, answers the control channel
// and reports the workers' counters. The ingress, when there is one, is served by a process of its
// own (ingress-process.ts). It keeps the last table and ingress when the daemon goes away.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { EndpointSpec, ListenerSpec, PlaneSettings, TableSnapshot } from '../plane.ts';
import type { ToWorker } from '../worker-protocol.ts';
import { WorkerPool } from '../workers.ts';
import { LineChannel } from './channel.ts';
import { IngressProcess } from './ingress-process.ts';
import { ingressConfigProblem } from './protocol.ts';
import type { FromPrimary, Reply, Request, ReviveCommand, ToPrimary } from './protocol.ts';
import type { DaemonIdentity } from './revive.ts';

/** A bound, not yet listening TCP socket (Node's own handle, as its cluster module makes them). */
interface TcpHandle {
  close(cb?: () => void): void;
  getsockname(out: { port?: number }): number;
}
type CreateHandle = (address: string, port: number, family: 4 | 6) => TcpHandle | number;
const createServerHandle = (net as unknown as { _createServerHandle: CreateHandle })
  ._createServerHandle;

interface Bound {
  spec: ListenerSpec;
  handle: TcpHandle | null;
  port: number;
}

export interface PrimaryOptions {
  workers: number;
  settings: PlaneSettings;
  /** The daemon asked it to end; called once the answer is sent. */
  onShutdown: () => void;
  /** The daemon on the current connection said who it is. */
  onDaemon?: (id: DaemonIdentity, revive?: ReviveCommand) => void;
}

class BindError extends Error {
  constructor(
    readonly code: string,
    spec: ListenerSpec,
  ) {
    super(`${code}: cannot listen on ${spec.host}:${spec.port}`);
  }
}

function bind(spec: ListenerSpec): Bound {
  const host = spec.host === '' ? '0.0.0.0' : spec.host;
  const h = createServerHandle(host, spec.port, net.isIPv6(host) ? 6 : 4);
  if (typeof h === 'number') throw new BindError(getSystemErrorName(h), spec);
  const out: { port?: number } = {};
  h.getsockname(out);
  return { spec, handle: h, port: out.port ?? spec.port };
}

export class Primary {
  private readonly listeners = new Map<string, Bound>();
  /** `<listener>\0<replica>` → endpoint */
  private readonly endpoints = new Map<string, EndpointSpec>();
  private readonly pool: WorkerPool;
  private daemon: LineChannel<ToPrimary> | null = null;
  private lastCounters = '';
  private readonly reporter: NodeJS.Timeout;
  /** The ingress, served by a process of its own beside the workers. */
  private readonly ingress = new IngressProcess({
    address: (id) => {
      const b = this.listeners.get(id);
      return b && { host: b.spec.host, port: b.port };
    },
    warn: (message) => this.notify({ ev: 'warn', message }),
  });

  constructor(private readonly opts: PrimaryOptions) {
    this.pool = new WorkerPool({
      count: opts.workers,
      replay: () => this.replay(),
      warn: (message) => this.notify({ ev: 'warn', message }),
      onWorkers: () => this.notify({ ev: 'workers', workers: this.pool.pids }),
      onHold: (service) => this.notify({ ev: 'hold', service }),
    });
    this.reporter = setInterval(() => this.pushCounters(), 250);
  }

  start(): Promise<void> {
    return this.pool.start();
  }

  /** Everything a worker that starts needs, in order. */
  private replay(): { m: ToWorker; handle?: object }[] {
    const out: { m: ToWorker; handle?: object }[] = [
      { m: { t: 'settings', settings: this.opts.settings } },
    ];
    for (const b of this.listeners.values())
      if (b.handle) out.push({ m: { t: 'listen', spec: b.spec, seq: 0 }, handle: b.handle });
    for (const endpoint of this.endpoints.values()) out.push({ m: { t: 'add', endpoint } });
    return out;
  }

  private notify(m: FromPrimary): void {
    this.daemon?.send(m);
  }

  private pushCounters(): void {
    if (!this.daemon) return;
    const stats = this.pool.stats();
    const key = JSON.stringify(stats);
    if (key === this.lastCounters) return;
    this.lastCounters = key;
    this.daemon.send({ ev: 'counters', stats });
  }

  /** A daemon connected: it is the one the primary answers now (a newer one replaces an older). */
  attach(sock: net.Socket, onGone: () => void): void {
    this.daemon?.sock.destroy();
    const ch = new LineChannel<ToPrimary>(sock, (m) => this.onMessage(ch, m));
    this.daemon = ch;
    this.lastCounters = '';
    sock.on('close', () => {
      if (this.daemon !== ch) return;
      this.daemon = null;
      onGone();
    });
    const held = [...this.listeners.values()].map((b) => ({ spec: b.spec, port: b.port }));
    ch.send({ ev: 'hello', pid: process.pid, workers: this.pool.pids, listeners: held });
  }

  private onMessage(ch: LineChannel<ToPrimary>, m: ToPrimary): void {
    if (m.op === 'daemon') {
      if (this.daemon === ch)
        this.opts.onDaemon?.({ pid: m.pid, startTime: m.startTime }, m.revive);
      return;
    }
    if (m.op === 'add') {
      this.endpoints.set(`${m.endpoint.listener}\0${m.endpoint.replica}`, m.endpoint);
      this.pool.broadcast({ t: 'add', endpoint: m.endpoint });
      return;
    }
    if (m.op === 'remove') {
      this.forget(m.replica, m.listeners);
      this.pool.broadcast({ t: 'remove', replica: m.replica, listeners: m.listeners });
      return;
    }
    this.answer(m).then(
      (r) => {
        ch.send({ id: m.id, ok: true, ...r });
        if (m.op === 'shutdown') this.opts.onShutdown();
      },
      (err: unknown) =>
        ch.send({
          id: m.id,
          ok: false,
          error: (err as Error).message,
          code: (err as { code?: string }).code,
        } satisfies Reply),
    );
  }

  private forget(replica: string, listeners: string[]): void {
    for (const l of listeners) this.endpoints.delete(`${l}\0${replica}`);
  }

  private async answer(m: Request): Promise<Partial<Reply>> {
    switch (m.op) {
      case 'open':
        return { port: await this.open(m.spec) };
      case 'stop':
        await this.stop(m.listener);
        return {};
      case 'resume':
        await this.resume(m.listener);
        return {};
      case 'close':
        await this.close(m.listener);
        return {};
      case 'drain':
        this.forget(m.replica, m.listeners);
        await this.pool.ask((seq) => ({
          t: 'drain',
          replica: m.replica,
          listeners: m.listeners,
          seq,
        }));
        return {};
      case 'counters':
        await this.pool.ask((seq) => ({ t: 'report', seq }));
        return { stats: this.pool.stats() };
      case 'snapshot':
        return { failed: await this.resync(m.table, m.keep) };
      case 'ingress': {
        const bad = ingressConfigProblem(m.config);
        if (bad) throw new Error(`the proxy process cannot serve this ingress: ${bad}`);
        await this.ingress.apply(m.config);
        return {};
      }
      case 'shutdown':
        await this.shutdown();
        return {};
    }
  }

  private async open(spec: ListenerSpec): Promise<number> {
    const old = this.listeners.get(spec.id);
    if (old) return old.port;
    const b = bind(spec);
    this.listeners.set(spec.id, b);
    await this.handOut(b);
    return b.port;
  }

  /** Every worker accepts on it before the daemon hears it is open. */
  private handOut(b: Bound): Promise<void> {
    return this.pool.ask((seq) => ({ t: 'listen', spec: b.spec, seq }), b.handle!);
  }

  private async stop(id: string): Promise<void> {
    const b = this.listeners.get(id);
    if (!b?.handle) return;
    this.pool.broadcast({ t: 'stop', listener: id });
    b.handle.close();
    b.handle = null;
  }

  private async resume(id: string): Promise<void> {
    const b = this.listeners.get(id);
    if (!b || b.handle) return;
    const again = bind({ ...b.spec, port: b.port });
    b.handle = again.handle;
    await this.handOut(b);
  }

  private async close(id: string): Promise<void> {
    const b = this.listeners.get(id);
    if (!b) return;
    this.listeners.delete(id);
    for (const [k, e] of this.endpoints) if (e.listener === id) this.endpoints.delete(k);
    this.pool.broadcast({ t: 'close', listener: id });
    b.handle?.close();
  }

  /** Make the table exactly `t` (a daemon that connected again): listeners it names are kept or
   * bound (on the port it knew), others closed; the endpoints replaced, but those of the `keep`
   * replicas stay on listeners that stay ('*': nothing is closed or removed). */
  private async resync(
    t: TableSnapshot,
    keep: string[] | '*' = [],
  ): Promise<Record<string, string>> {
    const failed: Record<string, string> = {};
    const want = new Set(t.listeners.map((l) => l.id));
    if (keep !== '*')
      for (const id of [...this.listeners.keys()]) if (!want.has(id)) await this.close(id);
    for (const l of t.listeners) {
      if (this.listeners.has(l.id)) continue;
      try {
        await this.open({ ...l, port: l.boundPort ?? l.port });
      } catch (err) {
        failed[l.id] = (err as Error).message;
      }
    }
    const next = new Map(t.endpoints.map((e) => [`${e.listener}\0${e.replica}`, e]));
    const kept = keep === '*' ? undefined : new Set(keep);
    for (const [k, e] of this.endpoints)
      if (!next.has(k) && this.listeners.has(e.listener) && (!kept || kept.has(e.replica)))
        next.set(k, e);
    for (const [k, e] of this.endpoints)
      if (!next.has(k))
        this.pool.broadcast({ t: 'remove', replica: e.replica, listeners: [e.listener] });
    for (const [k, e] of next)
      if (!this.endpoints.has(k)) this.pool.broadcast({ t: 'add', endpoint: e });
    this.endpoints.clear();
    for (const [k, e] of next) this.endpoints.set(k, e);
    return failed;
  }

  async shutdown(): Promise<void> {
    clearInterval(this.reporter);
    await this.ingress.close();
    await this.pool.close();
    for (const b of this.listeners.values()) b.handle?.close();
    this.listeners.clear();
  }
}
