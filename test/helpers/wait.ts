// Polling helpers for integration tests: bounded waits, never open-ended.
import type { Engine } from '../../src/engine/engine.ts';
import type { ReplicaInfo } from '../../src/engine/events.ts';

export async function waitUntil<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 8000,
  pollMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function replica(engine: Engine, name: string): ReplicaInfo | undefined {
  return engine.replicas().find((r) => r.name.endsWith(`-${name}`));
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
