// What is wrong with the daemon right now that the user should know (a state file it cannot write,
// logs it drops, a service down for backoff): listed by `ps`, and announced once as a notice on
// the `events` stream when it begins and when it ends.
import type { EngineEvent } from '../engine/events.ts';

type Listener = (e: EngineEvent) => void;

export class DaemonWarnings {
  private readonly current = new Map<string, string>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts (or rewords) the warning `key`; announced when new. */
  set(key: string, message: string, service?: string): void {
    const had = this.current.has(key);
    this.current.set(key, message);
    if (!had) this.announce(message, service);
  }

  /** Ends the warning `key`, announcing `resolved` if it was on. */
  clear(key: string, resolved?: string, service?: string): void {
    if (!this.current.delete(key)) return;
    if (resolved) this.announce(resolved, service);
  }

  has(key: string): boolean {
    return this.current.has(key);
  }

  list(): string[] {
    return [...this.current.values()];
  }

  on(listener: Listener): void {
    this.listeners.add(listener);
  }

  off(listener: Listener): void {
    this.listeners.delete(listener);
  }

  private announce(message: string, service?: string): void {
    const e: EngineEvent = {
      type: 'notice',
      at: this.now(),
      message,
      ...(service ? { service } : {}),
    };
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a listener that fails (a closed stream) must not stop the others
      }
    }
  }
}

/** "no space left on device (ENOSPC) writing /x/state.json" from a failed fs call. */
export function describeWriteError(err: unknown, path: string): string {
  const e = err as NodeJS.ErrnoException;
  const text = (e.message ?? String(err)).replace(/^[A-Z0-9]+: /, '').replace(/, \w+( '.*')?$/, '');
  return `${text}${e.code ? ` (${e.code})` : ''} writing ${path}`;
}
