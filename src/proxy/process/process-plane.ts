// The daemon's side of a proxy process group: starts the primary (its own session and process
// group, so a Ctrl-C or a stalled daemon never reaches it), mirrors the routing table it sends,
// and resyncs a primary that it reconnects to with a whole snapshot. Counters come back pushed
// every 250 ms, so stats() answers without a round trip.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReplicaStats } from '../counters.ts';
import type { DataPlane, EndpointSpec, ListenerSpec, PlaneSettings } from '../plane.ts';
import type { ProxyProcessOptions } from '../types.ts';
import { LineChannel } from './channel.ts';
import { CONTROL_SOCKET } from './protocol.ts';
import type { FromPrimary, Reply, Request, ToPrimary } from './protocol.ts';

const PRIMARY_MAIN = fileURLToPath(new URL('./primary-main.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const RECONNECT_MS = 200;
const COUNTERS_WAIT_MS = 1000;

/** What the primary reads from HERD_PROXY_CONFIG. */
export interface PrimaryConfig {
  name: string;
  socket: string;
  workers: number;
  settings: PlaneSettings;
  /** How long it serves on without a daemon before it ends (0: until one comes back). */
  orphanMs: number;
  /** Nice value to take before starting the workers, if permitted. */
  nice?: number;
}

export interface ProcessPlaneOptions extends ProxyProcessOptions {
  settings: PlaneSettings;
  workers: number;
  warn: (m: string) => void;
  /** A listener of `service` holds a request and has no replica. */
  onHold?: (service: string) => void;
}

export class ProcessPlane implements DataPlane {
  private readonly dir: string;
  private readonly ownDir: boolean;
  private ch: LineChannel<FromPrimary> | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, (r: Reply) => void>();
  private readonly listeners = new Map<string, ListenerSpec & { boundPort: number }>();
  private readonly endpoints = new Map<string, EndpointSpec>();
  private last: ReplicaStats[] = [];
  private workerPids: number[] = [];
  private primary: number | undefined;
  private closing = false;

  constructor(private readonly opts: ProcessPlaneOptions) {
    this.ownDir = opts.dir === undefined;
    this.dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'herd-proxy-'));
  }

  get socketPath(): string {
    return path.join(this.dir, CONTROL_SOCKET);
  }

  get primaryPid(): number | undefined {
    return this.primary;
  }

  async start(): Promise<void> {
    if (this.ch) return;
    await this.stopStale();
    const cfg: PrimaryConfig = {
      name: path.basename(this.dir),
      socket: this.socketPath,
      workers: this.opts.workers,
      settings: this.opts.settings,
      orphanMs: 60_000,
      ...(this.opts.nice !== undefined ? { nice: this.opts.nice } : {}),
    };
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), PRIMARY_MAIN], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...this.opts.env, HERD_PROXY_CONFIG: JSON.stringify(cfg) },
    });
    this.primary = child.pid;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the proxy process did not start in time'));
      }, START_TIMEOUT_MS);
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        if (!d.includes('ready')) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the proxy process exited while starting (${code ?? signal})`));
      });
    });
    child.stdout!.destroy();
    child.removeAllListeners('exit');
    child.unref();
    await this.connect();
  }

  /** A primary left by a daemon that died holds the ports: end it before starting afresh. */
  private async stopStale(): Promise<void> {
    const sock = await this.dial().catch(() => null);
    if (!sock) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      sock.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.on('data', () => sock.end());
      sock.write(JSON.stringify({ id: 0, op: 'shutdown' } satisfies Request) + '\n');
    });
    sock.destroy();
  }

  private dial(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(this.socketPath);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  /** Connects and resolves once the primary said hello (so pids() knows its workers). */
  private async connect(): Promise<void> {
    const sock = await this.dial();
    let hello!: () => void;
    const greeted = new Promise<void>((resolve) => (hello = resolve));
    const ch = new LineChannel<FromPrimary>(sock, (m) => {
      this.onMessage(m);
      if ('ev' in m && m.ev === 'hello') hello();
    });
    sock.once('close', hello);
    this.ch = ch;
    sock.on('close', () => {
      if (this.ch !== ch) return;
      this.ch = null;
      for (const [id, done] of this.pending) {
        this.pending.delete(id);
        done({ id, ok: false, error: 'the proxy process went away' });
      }
      if (!this.closing) this.reconnect();
    });
    await greeted;
  }

  /** Connection lost but the primary may be alive (it serves on): reconnect and resync. */
  private reconnect(): void {
    const t = setTimeout(() => {
      this.connect().then(
        () => void this.resync(),
        () => this.reconnect(),
      );
    }, RECONNECT_MS);
    t.unref();
  }

  /** Send the whole table: the primary matches it exactly. */
  async resync(): Promise<void> {
    const r = await this.request({
      op: 'snapshot',
      table: { listeners: [...this.listeners.values()], endpoints: [...this.endpoints.values()] },
    });
    for (const [id, why] of Object.entries(r.failed ?? {}))
      this.opts.warn(`proxy: listener ${id} could not be restored: ${why}`);
  }

  private onMessage(m: FromPrimary): void {
    if ('id' in m) {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      done?.(m);
      return;
    }
    if (m.ev === 'counters') this.last = m.stats;
    else if (m.ev === 'hello' || m.ev === 'workers') this.workerPids = m.workers;
    else if (m.ev === 'warn') this.opts.warn(m.message);
    else if (m.ev === 'hold') this.opts.onHold?.(m.service);
  }

  private send(m: ToPrimary): void {
    this.ch?.send(m);
  }

  private request(m: DistributiveOmit<Request, 'id'>): Promise<Reply> {
    const ch = this.ch;
    if (!ch) return Promise.resolve({ id: -1, ok: false, error: 'no proxy process' });
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      ch.send({ ...m, id });
    });
  }

  private async must(m: DistributiveOmit<Request, 'id'>): Promise<Reply> {
    const r = await this.request(m);
    if (!r.ok) throw Object.assign(new Error(r.error ?? 'proxy request failed'), { code: r.code });
    return r;
  }

  async open(spec: ListenerSpec): Promise<number> {
    const r = await this.must({ op: 'open', spec });
    this.listeners.set(spec.id, { ...spec, boundPort: r.port! });
    return r.port!;
  }

  async stopAccepting(id: string): Promise<void> {
    await this.must({ op: 'stop', listener: id });
  }

  async resume(id: string): Promise<void> {
    await this.must({ op: 'resume', listener: id });
  }

  async close(id: string): Promise<void> {
    this.listeners.delete(id);
    for (const [k, e] of this.endpoints) if (e.listener === id) this.endpoints.delete(k);
    await this.request({ op: 'close', listener: id });
  }

  add(e: EndpointSpec): void {
    this.endpoints.set(`${e.listener}\0${e.replica}`, e);
    this.send({ op: 'add', endpoint: e });
  }

  private forget(replica: string, listeners: string[]): void {
    for (const l of listeners) this.endpoints.delete(`${l}\0${replica}`);
  }

  remove(replica: string, listeners: string[]): void {
    this.forget(replica, listeners);
    this.send({ op: 'remove', replica, listeners });
  }

  async drain(replica: string, listeners: string[]): Promise<void> {
    this.forget(replica, listeners);
    await this.request({ op: 'drain', replica, listeners });
  }

  stats(): ReplicaStats[] {
    return this.last;
  }

  /** Fresh counters; the pushed copy when the primary does not answer within a second (a stopped
   * or busy proxy must not hang `ps`). */
  async counters(): Promise<ReplicaStats[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>(
      (resolve) => (timer = setTimeout(resolve, COUNTERS_WAIT_MS, null)),
    );
    const r = await Promise.race([this.request({ op: 'counters' }), late]);
    clearTimeout(timer);
    if (r?.ok && r.stats) this.last = r.stats;
    return this.last;
  }

  pids(): number[] {
    return this.workerPids;
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    if (this.ch) {
      const ch = this.ch;
      const gone = new Promise<void>((resolve) => ch.sock.once('close', () => resolve()));
      await this.request({ op: 'shutdown' });
      ch.sock.end();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000).unref())]);
    }
    // Wait for the primary itself to be gone, so that its ports are free when this resolves.
    const pid = this.primary;
    const deadline = Date.now() + 5000;
    while (pid !== undefined && alive(pid) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
