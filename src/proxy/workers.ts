// The main process's side of extra proxy worker processes: forks them, hands each the listening
// sockets (the kernel then spreads accepted connections over every process waiting on them),
// mirrors membership to them, collects their counters, and replaces a worker that dies.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sumStats } from './counters.ts';
import type { ReplicaStats } from './counters.ts';
import type { FromWorker, ToWorker, WorkerEntrySpec } from './worker-protocol.ts';

const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
/** Workers run from source like the rest of herd: load tsx by absolute URL, whatever the cwd. */
function execArgv(): string[] {
  return ['--import', import.meta.resolve('tsx')];
}
const RESPAWN_DELAY_MS = 1000;

export interface PoolConfig {
  count: number;
  init: Extract<ToWorker, { t: 'init' }>;
  servers: net.Server[];
  warn: (m: string) => void;
}

interface Worker {
  child: ChildProcess;
  stats: ReplicaStats[];
  ready: Promise<void>;
  started: boolean;
}

export class WorkerPool {
  private workers: Worker[] = [];
  private closing = false;
  /** Final counters of workers that exited, so totals never go backwards. */
  private retired: ReplicaStats[] = [];
  /** Current membership, replayed to a replacement worker: key → add message. */
  private readonly members = new Map<string, Extract<ToWorker, { t: 'add' }>>();
  private seq = 0;
  private readonly drainWaits = new Map<number, { pending: Set<Worker>; done: () => void }>();

  constructor(private readonly cfg: PoolConfig) {}

  /** Fork every worker; resolves once each serves all listening sockets. */
  async start(): Promise<void> {
    for (let i = 0; i < this.cfg.count; i++) {
      const w = this.spawn();
      if (w) this.workers.push(w);
    }
    await Promise.all(this.workers.map((w) => w.ready));
  }

  private spawn(): Worker | undefined {
    let child: ChildProcess;
    try {
      child = fork(WORKER_MAIN, [], { execArgv: execArgv(), stdio: 'inherit' });
    } catch (err) {
      this.cfg.warn(
        `cannot start a proxy worker process (${(err as Error).message}); herd's main process serves every connection`,
      );
      return undefined;
    }
    const w: Worker = {
      child,
      stats: [],
      ready: Promise.resolve(),
      started: false,
    };
    w.ready = new Promise<void>((resolve) => {
      child.on('message', (m: FromWorker) => {
        if (m.t === 'hello') this.configure(w);
        else if (m.t === 'ready') {
          w.started = true;
          resolve();
        } else if (m.t === 'stats') w.stats = m.stats;
        else if (m.t === 'drained') this.drainedOne(m.seq, w);
      });
      child.on('exit', () => {
        resolve();
        this.onExit(w);
      });
    });
    child.on('error', () => {});
    return w;
  }

  /** The worker listens for messages now: hand it settings, sockets and current membership. */
  private configure(w: Worker): void {
    const child = w.child;
    this.post(w, this.cfg.init);
    this.cfg.servers.forEach((server, entry) => {
      if (child.connected) child.send({ t: 'listen', entry } satisfies ToWorker, server);
    });
    for (const m of this.members.values()) this.post(w, m);
  }

  private onExit(w: Worker): void {
    const i = this.workers.indexOf(w);
    if (i === -1) return;
    this.workers.splice(i, 1);
    this.retired = sumStats(this.retired, w.stats);
    // It can no longer answer pending drains: it has nothing in flight either.
    for (const seq of [...this.drainWaits.keys()]) this.drainedOne(seq, w);
    if (this.closing) return;
    if (!w.started) {
      // It died before serving: starting another would most likely fail the same way.
      this.cfg.warn(
        `proxy worker ${w.child.pid} exited before it could serve (${w.child.exitCode ?? w.child.signalCode}); herd's main process serves its share`,
      );
      return;
    }
    this.cfg.warn(
      `proxy worker ${w.child.pid} exited (${w.child.exitCode ?? w.child.signalCode}); starting a new one`,
    );
    setTimeout(() => {
      if (this.closing) return;
      const fresh = this.spawn();
      if (fresh) this.workers.push(fresh);
    }, RESPAWN_DELAY_MS).unref();
  }

  private post(w: Worker, m: ToWorker): void {
    if (w.child.connected) w.child.send(m, (err: Error | null) => void err);
  }

  private broadcast(m: ToWorker): void {
    for (const w of this.workers) this.post(w, m);
  }

  add(entry: number, id: string, service: string, host: string, port: number): void {
    const m = { t: 'add', entry, id, service, host, port } as const;
    this.members.set(`${entry}\0${id}`, m);
    this.broadcast(m);
  }

  remove(id: string, service: string): void {
    for (const [k, m] of this.members)
      if (m.id === id && m.service === service) this.members.delete(k);
    this.broadcast({ t: 'remove', id, service });
  }

  /** Take `id` out of every worker and resolve once none has a request in flight to it. */
  drain(id: string, service: string): Promise<void> {
    for (const [k, m] of this.members)
      if (m.id === id && m.service === service) this.members.delete(k);
    const live = this.workers.filter((w) => w.child.connected);
    if (live.length === 0) return Promise.resolve();
    const seq = ++this.seq;
    return new Promise<void>((done) => {
      this.drainWaits.set(seq, { pending: new Set(live), done });
      for (const w of live) this.post(w, { t: 'drain', id, service, seq });
    });
  }

  private drainedOne(seq: number, w: Worker | null): void {
    const d = this.drainWaits.get(seq);
    if (!d) return;
    if (w) d.pending.delete(w);
    else d.pending.clear();
    if (d.pending.size === 0) {
      this.drainWaits.delete(seq);
      d.done();
    }
  }

  /** Latest counters each worker reported (pushed every 250 ms while they change). */
  stats(): ReplicaStats[] {
    return sumStats(this.retired, ...this.workers.map((w) => w.stats));
  }

  get pids(): number[] {
    return this.workers.map((w) => w.child.pid!).filter(Boolean);
  }

  async close(): Promise<void> {
    this.closing = true;
    const ws = this.workers.splice(0);
    await Promise.all(
      ws.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            const kill = setTimeout(() => w.child.kill('SIGKILL'), 3000);
            w.child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.child.connected) w.child.send({ t: 'close' } satisfies ToWorker);
            else w.child.kill('SIGTERM');
          }),
      ),
    );
    for (const seq of [...this.drainWaits.keys()]) this.drainedOne(seq, null);
  }
}

export type { WorkerEntrySpec };
