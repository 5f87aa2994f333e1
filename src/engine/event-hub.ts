// Events out (listeners) and waits in (promises that resolve once a condition over the engine's
// state holds, re-checked after every event). Engine and Supervisor each hold the same one.
import type { Clock } from '../util/clock.ts';
import type { EngineEvent } from './events.ts';

type Listener = (e: EngineEvent) => void;

/** A restarted replica is ready, or why it never got there. */
export type Outcome = { ok: true } | { ok: false; reason: string };

export class EventHub {
  private readonly listeners: Listener[] = [];
  private waiters: { done: () => boolean; resolve: () => void }[] = [];

  constructor(readonly clock: Clock) {}

  on(_event: 'event', listener: Listener): this {
    this.listeners.push(listener);
    return this;
  }

  off(_event: 'event', listener: Listener): this {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
    return this;
  }

  emit(e: EngineEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        // A broken listener must not stop supervision.
        process.stderr.write(`herd: event listener failed: ${String(err)}\n`);
      }
    }
    this.checkWaiters();
  }

  waitFor(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  /** Resolves when `check` gives an answer, or with a failure after `timeoutMs`. */
  waitOutcome(
    check: () => Outcome | undefined,
    timeoutMs: number,
    timedOut: () => string,
  ): Promise<Outcome> {
    let result: Outcome | undefined;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const waiter = {
      done: () => (result ??= check()) !== undefined,
      resolve: () => {
        timer.cancel();
        settle();
      },
    };
    const timer = this.clock.setTimeout(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      result ??= { ok: false, reason: timedOut() };
      settle();
    }, timeoutMs);
    if (waiter.done()) waiter.resolve();
    else this.waiters.push(waiter);
    return done.then(() => result as Outcome);
  }

  checkWaiters(): void {
    const ready = this.waiters.filter((w) => w.done());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
