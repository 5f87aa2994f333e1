// A proxy primary's ingress process: the ingress (x-herd.ingress) served beside the workers, in
// the primary's process group, so that it answers whatever happens to the daemon. The primary
// keeps the last config the daemon sent (an unchanged one is a no-op) and gives it to a new
// ingress process when the one it had died.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ownModuleArgv } from '../../util/child-loader.ts';
import type { IngressConfig } from '../plane.ts';

const INGRESS_MAIN = fileURLToPath(new URL('./ingress-main.ts', import.meta.url));
const RESPAWN_DELAY_MS = 200;
const EXIT_WAIT_MS = 3000;

type Address = { host: string; port: number };

/** primary → ingress process */
export type ToIngress =
  /** `listeners`: where the listeners the pools name are bound. Answered `done`. */
  | {
      t: 'apply';
      config: IngressConfig | null;
      listeners: Record<string, Address>;
      seq: number;
    }
  | { t: 'exit' };

/** ingress process → primary */
export type FromIngress =
  { t: 'hello' } | { t: 'done'; seq: number; error?: string; code?: string };

export interface IngressProcessOptions {
  /** Where the primary's listener `id` is bound (undefined: it holds none of that id). */
  address: (id: string) => Address | undefined;
  warn: (message: string) => void;
}

type Answer = { error?: string; code?: string };

export class IngressProcess {
  private child: ChildProcess | undefined;
  private starting: Promise<ChildProcess | undefined> | undefined;
  /** The config served (JSON), so that the same one again changes nothing. */
  private applied = 'null';
  private config: IngressConfig | null = null;
  private seq = 0;
  private readonly waits = new Map<number, (a: Answer) => void>();
  private queue: Promise<void> = Promise.resolve();
  private closing = false;

  constructor(private readonly opts: IngressProcessOptions) {}

  /** Serve `config` (null: none, and no process). Rejects with the ingress's own error (a port
   * it cannot bind: code PORT_UNAVAILABLE). */
  apply(config: IngressConfig | null): Promise<void> {
    const run = this.queue.then(() => this.applyNow(config));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(config: IngressConfig | null): Promise<void> {
    const key = JSON.stringify(config);
    if (key === this.applied) return;
    this.config = config;
    this.applied = key;
    if (!config) return this.end();
    const child = await this.started();
    const a = child
      ? await this.ask(child, config)
      : { error: 'the ingress process did not start' };
    if (!a.error) return;
    // Nothing is served now; the same config again is tried again.
    this.config = null;
    this.applied = '';
    throw Object.assign(new Error(a.error), { code: a.code });
  }

  private started(): Promise<ChildProcess | undefined> {
    if (this.child?.connected) return Promise.resolve(this.child);
    this.starting ??= this.spawn().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private spawn(): Promise<ChildProcess | undefined> {
    let child: ChildProcess;
    try {
      child = fork(INGRESS_MAIN, [], {
        execArgv: ownModuleArgv(),
        stdio: 'inherit',
      });
    } catch (err) {
      this.opts.warn(`cannot start the ingress process: ${(err as Error).message}`);
      return Promise.resolve(undefined);
    }
    child.on('error', () => {});
    return new Promise((resolve) => {
      let hello = false;
      child.on('message', (m: FromIngress) => {
        if (m.t === 'hello') {
          hello = true;
          this.child = child;
          resolve(child);
        } else if (m.t === 'done') {
          const w = this.waits.get(m.seq);
          this.waits.delete(m.seq);
          w?.({ error: m.error, code: m.code });
        }
      });
      child.on('exit', (code, signal) => {
        resolve(undefined);
        if (this.child !== child) return;
        this.child = undefined;
        for (const [seq, w] of this.waits) {
          this.waits.delete(seq);
          w({ error: `the ingress process exited (${code ?? signal})` });
        }
        if (hello && !this.closing && this.config) this.respawn(`${code ?? signal}`);
      });
    });
  }

  /** It died while serving: a new one takes the last config (the entries refuse meanwhile). */
  private respawn(how: string): void {
    this.opts.warn(`proxy: the ingress process exited (${how}); starting a new one`);
    setTimeout(() => {
      const config = this.config;
      if (this.closing || !config) return;
      void this.started().then(async (child) => {
        const a = child ? await this.ask(child, config) : { error: 'it did not start' };
        if (a.error) this.opts.warn(`proxy: the ingress could not be served again: ${a.error}`);
      });
    }, RESPAWN_DELAY_MS).unref();
  }

  private ask(child: ChildProcess, config: IngressConfig): Promise<Answer> {
    const listeners: Record<string, Address> = {};
    for (const id of Object.values(config.pools)) {
      const a = this.opts.address(id);
      if (a) listeners[id] = a;
    }
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waits.set(seq, resolve);
      child.send({ t: 'apply', config, listeners, seq } satisfies ToIngress, (err) => {
        if (err && this.waits.delete(seq)) resolve({ error: err.message });
      });
    });
  }

  /** Ends the process (its entries close); resolves once it exited. */
  private end(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), EXIT_WAIT_MS);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (child.connected) child.send({ t: 'exit' } satisfies ToIngress);
      else child.kill('SIGTERM');
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.queue;
    await this.end();
  }
}
