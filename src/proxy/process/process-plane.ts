// The daemon's side of a proxy process group: adopts the primary that serves on the control
// socket (left by a daemon that died: its ports and table stay) or starts one, mirrors the
// routing table it sends, resyncs a primary it reconnects to with a whole snapshot, and starts
// a new primary when the one it had died. Counters come back pushed every 250 ms, so stats()
// answers without a round trip.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { HerdError } from '../../util/errors.ts';
import { isSameProcess, pidExists, processStartTime } from '../../util/process-identity.ts';
import type { ReplicaStats } from '../counters.ts';
import type {
  DataPlane,
  EndpointSpec,
  IngressConfig,
  ListenerSpec,
  PlaneSettings,
  TableSnapshot,
} from '../plane.ts';
import type { ProxyProcessOptions } from '../types.ts';
import { LineChannel } from './channel.ts';
import { heldMatch, killGroup, onWire, Restarts } from './plane-support.ts';
import { CONTROL_SOCKET } from './protocol.ts';
import type { FromPrimary, HeldListener, Reply, ToPrimary } from './protocol.ts';
import { PendingRequests, type Ask } from './requests.ts';
import { spawnPrimary, type PrimaryConfig } from './spawn-primary.ts';

const RECONNECT_MS = 200;
const COUNTERS_WAIT_MS = 1000;
const HELLO_WAIT_MS = 5000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type { PrimaryConfig } from './spawn-primary.ts';

export interface ProcessPlaneOptions extends ProxyProcessOptions {
  settings: PlaneSettings;
  workers: number;
  warn: (m: string) => void;
  /** A listener of `service` holds a request and has no replica. */
  onHold?: (service: string) => void;
  /** Tests: passed to the primaries this plane starts. */
  reviveTiming?: PrimaryConfig['reviveTiming'];
}

export class ProcessPlane implements DataPlane {
  private readonly dir: string;
  private readonly ownDir: boolean;
  private ch: LineChannel<object> | null = null;
  /** Requests sent and not answered yet: the op asked (its reply is checked against it). */
  private readonly requests = new PendingRequests();
  private readonly listeners = new Map<string, ListenerSpec & { boundPort: number }>();
  private readonly endpoints = new Map<string, EndpointSpec>();
  /** The ingress the primary serves (pools by this plane's listener ids), sent again with the
   * table to a primary started anew. */
  private ingressConfig: IngressConfig | null = null;
  private last: ReplicaStats[] = [];
  private workerPids: number[] = [];
  private primary: { pid: number; startTime: number } | undefined;
  private closing = false;
  /** Listeners the adopted primary held that no open() has claimed yet. */
  private held: HeldListener[] = [];
  /** Daemon listener id → the id the primary knows it by (adopted listeners keep theirs; new
   * ones get this plane's suffix, so they never collide with ids of the daemon before). */
  private readonly wire = new Map<string, string>();
  private readonly suffix = `~${randomBytes(4).toString('hex')}`;
  /** Adopted and not settled: resyncs only add. */
  private unsettled = false;
  /** start() found a primary serving and kept it. */
  adopted = false;
  /** Primaries started again after one died, and the last gap (connection lost → serving). */
  readonly restarts = new Restarts();

  constructor(private readonly opts: ProcessPlaneOptions) {
    this.ownDir = opts.dir === undefined;
    this.dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'herd-proxy-'));
  }

  get socketPath(): string {
    return path.join(this.dir, CONTROL_SOCKET);
  }

  get primaryPid(): number | undefined {
    return this.primary?.pid;
  }

  async start(): Promise<void> {
    if (this.ch) return;
    const sock = await this.dial().catch(() => null);
    if (sock) {
      // A primary left by a daemon that died holds the ports and serves its last table: keep it.
      this.held = await this.connect(sock);
      this.adopted = true;
      this.unsettled = true;
      return;
    }
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    const cfg: PrimaryConfig = {
      name: path.basename(this.dir),
      socket: this.socketPath,
      workers: this.opts.workers,
      settings: this.opts.settings,
      orphanMs: 60_000,
      ...(this.opts.nice !== undefined ? { nice: this.opts.nice } : {}),
      ...(this.opts.revive ? { revive: this.opts.revive } : {}),
      ...(this.opts.reviveTiming ? { reviveTiming: this.opts.reviveTiming } : {}),
    };
    await spawnPrimary(cfg, { ...process.env, ...this.opts.env });
    await this.connect(await this.dial());
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

  /** Resolves once the primary said hello (with its workers and the listeners it holds), after
   * telling it who this daemon is. */
  private async connect(sock: net.Socket): Promise<HeldListener[]> {
    let hello!: (held: HeldListener[] | null) => void;
    const greeted = new Promise<HeldListener[] | null>((resolve) => (hello = resolve));
    const misread = new Set<string>();
    const ch = new LineChannel<object>(sock, (raw) => {
      const m = this.checked(raw, misread);
      if (!m) return;
      if ('ev' in m && m.ev === 'hello') {
        this.primary = { pid: m.pid, startTime: processStartTime(m.pid) ?? 0 };
        hello(m.listeners ?? []);
      }
      this.onMessage(m);
    });
    const timer = setTimeout(() => sock.destroy(), HELLO_WAIT_MS);
    sock.once('close', () => hello(null));
    this.ch = ch;
    sock.on('close', () => this.lost(ch));
    const held = await greeted;
    clearTimeout(timer);
    if (!held) throw new Error(`the proxy process on ${this.socketPath} did not answer`);
    ch.send({
      op: 'daemon',
      pid: process.pid,
      startTime: processStartTime(process.pid) ?? 0,
      ...(this.opts.revive ? { revive: this.opts.revive } : {}),
    } satisfies ToPrimary);
    return held;
  }

  private lost(ch: LineChannel<object>): void {
    if (this.ch !== ch) return;
    this.ch = null;
    this.requests.failAll('the proxy process went away');
    if (!this.closing) this.reconnect(Date.now());
  }

  private primaryGone(): boolean {
    const p = this.primary;
    if (!p) return false;
    if (p.startTime > 0) return !isSameProcess(p.pid, p.startTime);
    return !pidExists(p.pid);
  }

  /** Connection lost: a primary that is alive serves on (reconnect and resync); one that died
   * is started again on the same ports. */
  private reconnect(lostAt: number): void {
    if (this.closing) return;
    if (this.primaryGone()) {
      this.restarts.run(() => this.restart(lostAt));
      return;
    }
    const t = setTimeout(() => {
      this.dial()
        .then((s) => this.connect(s))
        .then(
          () => void this.resync(),
          () => this.reconnect(lostAt),
        );
    }, RECONNECT_MS);
    t.unref();
  }

  /** A new primary, every listener on the port it had, the whole table; retried with a backoff
   * while it cannot (a port taken meanwhile). */
  private async restart(lostAt: number): Promise<void> {
    const old = this.primary!.pid;
    // The new primary starts (it binds nothing yet) while the old group is ended: the ports are
    // free again before the table is sent.
    const ended = killGroup(old);
    let reported = false;
    for (let delay = FIRST_RETRY_MS; !this.closing; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
      let failed = 1;
      try {
        if (!this.ch) await this.spawn();
        await ended;
        if (this.closing) return;
        failed = await this.resync();
        if (!reported) {
          reported = true;
          const gap = Date.now() - lostAt;
          this.restarts.record(gap);
          this.opts.warn(
            `proxy: the proxy process (pid ${old}) died; restarted it in ${gap} ms — the published ports refused connections meanwhile`,
          );
        }
      } catch (err) {
        this.opts.warn(`proxy: cannot start the proxy process again: ${(err as Error).message}`);
      }
      if (failed === 0) return;
      this.opts.warn(`proxy: trying again in ${delay / 1000} s`);
      for (let t = 0; t < delay && !this.closing; t += 100) await sleep(100);
    }
  }

  /** Send the whole table: the primary matches it (adds only, while adopted and unsettled).
   * Resolves with the number of listeners it could not bind. */
  async resync(keep?: string[]): Promise<number> {
    const r = await this.request({
      op: 'snapshot',
      table: this.table(),
      ...(this.unsettled ? { keep: '*' as const } : keep ? { keep } : {}),
    });
    if (!r.ok) throw new Error(r.error ?? 'the proxy process did not take the table');
    const failed = Object.entries(r.failed ?? {});
    for (const [id, why] of failed)
      this.opts.warn(`proxy: listener ${id} could not be restored: ${why}`);
    // After the listeners: its pools are among them. A primary that has it already keeps it.
    if (this.ingressConfig)
      await this.sendIngress().catch((err: unknown) =>
        this.opts.warn(`proxy: the ingress could not be restored: ${(err as Error).message}`),
      );
    return failed.length;
  }

  async ingress(config: IngressConfig | null): Promise<void> {
    this.ingressConfig = config;
    // No primary now: the one that comes back gets it with the table (resync).
    if (this.ch) await this.sendIngress();
  }

  private async sendIngress(): Promise<void> {
    const config = this.ingressConfig && onWire(this.ingressConfig, (id) => this.w(id));
    const r = await this.request({ op: 'ingress', config });
    if (r.ok) return;
    const error = r.error ?? 'the proxy process did not take the ingress';
    throw new HerdError(error, r.code === 'PORT_UNAVAILABLE' ? 'PORT_UNAVAILABLE' : 'FAILED');
  }

  /** The table in the primary's ids. */
  private table(): TableSnapshot {
    return {
      listeners: [...this.listeners.values()].map((l) => ({ ...l, id: this.w(l.id) })),
      endpoints: [...this.endpoints.values()].map((e) => ({ ...e, listener: this.w(e.listener) })),
    };
  }

  async settle(keepReplicas: string[]): Promise<void> {
    this.unsettled = false;
    this.held = [];
    await this.resync(keepReplicas);
  }

  private w(id: string): string {
    return this.wire.get(id) ?? id;
  }

  /** `raw` as a message herd understands, or undefined: then a request it answers fails with
   * what is wrong, and the daemon is warned once per kind of fault and connection (never a
   * crash on a field that is not there). */
  private checked(raw: object, misread: Set<string>): FromPrimary | undefined {
    const why = (bad: string) =>
      `the proxy process at ${this.socketPath} answered something herd does not understand (${bad})`;
    const m = this.requests.check(raw, why);
    if (!('problem' in m)) return m;
    if (!misread.has(m.problem)) {
      misread.add(m.problem);
      this.opts.warn(`proxy: ${why(m.problem)}; ignored`);
    }
    return undefined;
  }

  private onMessage(m: FromPrimary): void {
    if ('id' in m) {
      this.requests.answer(m);
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

  private request(m: Ask): Promise<Reply> {
    return this.requests.send(this.ch, m);
  }

  async open(spec: ListenerSpec): Promise<number> {
    let wireId = spec.id;
    if (this.adopted) {
      const { claim, conflict } = heldMatch(this.held, spec);
      // Same port, other settings (the file changed while no daemon ran): the old listener
      // lets go of the port and closes when the table settles.
      if (conflict) await this.requests.must(this.ch, { op: 'stop', listener: conflict.spec.id });
      wireId = claim ? claim.spec.id : spec.id + this.suffix;
    }
    const r = await this.requests.must(this.ch, { op: 'open', spec: { ...spec, id: wireId } });
    this.wire.set(spec.id, wireId);
    this.listeners.set(spec.id, { ...spec, boundPort: r.port! });
    return r.port!;
  }

  async stopAccepting(id: string): Promise<void> {
    await this.requests.must(this.ch, { op: 'stop', listener: this.w(id) });
  }

  async resume(id: string): Promise<void> {
    await this.requests.must(this.ch, { op: 'resume', listener: this.w(id) });
  }

  async close(id: string): Promise<void> {
    const wireId = this.w(id);
    this.listeners.delete(id);
    this.wire.delete(id);
    for (const [k, e] of this.endpoints) if (e.listener === id) this.endpoints.delete(k);
    await this.request({ op: 'close', listener: wireId });
  }

  add(e: EndpointSpec): void {
    this.endpoints.set(`${e.listener}\0${e.replica}`, e);
    this.send({ op: 'add', endpoint: { ...e, listener: this.w(e.listener) } });
  }

  private forget(replica: string, listeners: string[]): void {
    for (const l of listeners) this.endpoints.delete(`${l}\0${replica}`);
  }

  remove(replica: string, listeners: string[]): void {
    this.forget(replica, listeners);
    this.send({ op: 'remove', replica, listeners: listeners.map((l) => this.w(l)) });
  }

  async drain(replica: string, listeners: string[]): Promise<void> {
    this.forget(replica, listeners);
    await this.request({ op: 'drain', replica, listeners: listeners.map((l) => this.w(l)) });
  }

  stats(): ReplicaStats[] {
    return this.last;
  }

  /** Fresh counters; the pushed copy when the primary does not answer within a second (a stopped
   * or busy proxy must not hang `ps`). */
  async counters(): Promise<ReplicaStats[]> {
    const r = await this.requests.sendWithin(this.ch, { op: 'counters' }, COUNTERS_WAIT_MS);
    if (r?.ok && r.stats) this.last = r.stats;
    return this.last;
  }

  pids(): number[] {
    return this.workerPids;
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    await this.restarts.idle();
    if (this.ch) {
      const ch = this.ch;
      const gone = new Promise<void>((resolve) => ch.sock.once('close', () => resolve()));
      await this.request({ op: 'shutdown' });
      ch.sock.end();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000).unref())]);
    }
    // Wait for the primary itself to be gone, so that its ports are free when this resolves.
    const pid = this.primary?.pid;
    const deadline = Date.now() + 5000;
    // (Reaped, not just a zombie: the caller may check that it is gone.)
    while (pid !== undefined && pidExists(pid) && Date.now() < deadline) await sleep(20);
    if (pid !== undefined && !this.primaryGone()) process.kill(pid, 'SIGKILL');
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
