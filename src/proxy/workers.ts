// A proxy primary's worker processes: forks them, hands each the bound listening sockets (the
// kernel then spreads accepted connections over every worker waiting on them; the primary never
// accepts), replays the table to each, collects their counters, and replaces a worker that dies.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ownModuleArgv } from '../util/child-loader.ts';
import { sumStats } from './counters.ts';
import type { ReplicaStats } from './counters.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
const RESPAWN_DELAY_MS = 200;

export interface PoolConfig {
  count: number;
  /** What a worker needs before it serves: settings, then each listener with its socket, then
   * the endpoints; asked afresh for every worker that starts. */
  replay: () => { m: ToWorker; handle?: object }[];
  warn: (m: string) => void;
  /** The set of worker pids changed. */
  onWorkers: () => void;
  /** A worker holds a request for `service`, which has no replica. */
  onHold?: (service: string) => void;
}

interface Worker {
  child: ChildProcess;
  stats: ReplicaStats[];
  started: boolean;
}

export class WorkerPool {
  private workers: Worker[] = [];
  private closing = false;
  /** Final counters of workers that exited, so totals never go backwards. */
  private retired: ReplicaStats[] = [];
  private seq = 0;
  /** Questions to the workers (listen, drain) waiting for each one's `done`. */
  private readonly waits = new Map<number, { pending: Set<Worker>; done: () => void }>();

  constructor(private readonly cfg: PoolConfig) {}

  /** Fork every worker; resolves once each has been handed the table. */
  async start(): Promise<void> {
    const started: Promise<void>[] = [];
    for (let i = 0; i < this.cfg.count; i++) started.push(this.spawn());
    await Promise.all(started);
  }

  private spawn(): Promise<void> {
    let child: ChildProcess;
    try {
      child = fork(WORKER_MAIN, [], { execArgv: ownModuleArgv(), stdio: 'inherit' });
    } catch (err) {
      this.cfg.warn(`cannot start a proxy worker process: ${(err as Error).message}`);
      return Promise.resolve();
    }
    const w: Worker = { child, stats: [], started: false };
    this.workers.push(w);
    child.on('error', () => {});
    return new Promise<void>((resolve) => {
      child.on('message', (m: FromWorker) => {
        if (m.t === 'hello') {
          for (const { m: msg, handle } of this.cfg.replay()) this.post(w, msg, handle);
          w.started = true;
          this.cfg.onWorkers();
          resolve();
        } else if (m.t === 'stats') w.stats = m.stats;
        else if (m.t === 'hold') this.cfg.onHold?.(m.service);
        else if (m.t === 'done') this.doneOne(m.seq, w);
      });
      child.on('exit', () => {
        resolve();
        this.onExit(w);
      });
    });
  }

  private onExit(w: Worker): void {
    const i = this.workers.indexOf(w);
    if (i === -1) return;
    this.workers.splice(i, 1);
    this.retired = sumStats(this.retired, w.stats);
    // It can no longer answer pending drains: it has nothing in flight either.
    for (const seq of [...this.waits.keys()]) this.doneOne(seq, w);
    this.cfg.onWorkers();
    if (this.closing) return;
    const how = w.child.exitCode ?? w.child.signalCode;
    if (!w.started) {
      // It died before serving: starting another would most likely fail the same way.
      this.cfg.warn(`proxy worker ${w.child.pid} exited before it could serve (${how})`);
      return;
    }
    this.cfg.warn(`proxy worker ${w.child.pid} exited (${how}); starting a new one`);
    // The sockets stay bound and listening in the primary meanwhile: new connections wait in
    // the kernel's backlog for the replacement.
    setTimeout(() => {
      if (!this.closing) void this.spawn();
    }, RESPAWN_DELAY_MS).unref();
  }

  private post(w: Worker, m: ToWorker, handle?: object): void {
    if (!w.child.connected) return;
    if (handle) w.child.send(m, handle as never, (err: Error | null) => void err);
    else w.child.send(m, (err: Error | null) => void err);
  }

  /** To every worker that has its table (one still starting gets it in its replay). */
  broadcast(m: ToWorker, handle?: object): void {
    for (const w of this.workers) if (w.started) this.post(w, m, handle);
  }

  /** Sends `make(seq)` with `handle` to every worker that serves and resolves once each said
   * done (or died). */
  ask(make: (seq: number) => ToWorker, handle?: object): Promise<void> {
    const live = this.workers.filter((w) => w.started && w.child.connected);
    if (live.length === 0) return Promise.resolve();
    const seq = ++this.seq;
    return new Promise<void>((done) => {
      this.waits.set(seq, { pending: new Set(live), done });
      for (const w of live) this.post(w, make(seq), handle);
    });
  }

  private doneOne(seq: number, w: Worker | null): void {
    const d = this.waits.get(seq);
    if (!d) return;
    if (w) d.pending.delete(w);
    else d.pending.clear();
    if (d.pending.size === 0) {
      this.waits.delete(seq);
      d.done();
    }
  }

  /** Latest counters each worker reported (pushed every 250 ms while they change). */
  stats(): ReplicaStats[] {
    return sumStats(this.retired, ...this.workers.map((w) => w.stats));
  }

  get pids(): number[] {
    return this.workers.filter((w) => w.started).map((w) => w.child.pid!);
  }

  async close(): Promise<void> {
    this.closing = true;
    const ws = this.workers.slice();
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
            if (w.child.connected) w.child.send({ t: 'exit' } satisfies ToWorker);
            else w.child.kill('SIGTERM');
          }),
      ),
    );
    for (const seq of [...this.waits.keys()]) this.doneOne(seq, null);
  }
}
