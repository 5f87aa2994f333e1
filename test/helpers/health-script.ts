// A probe runner for HealthMonitor unit tests: each call takes the next scripted outcome and
// resolves after its duration on the FakeClock, so every timing rule is checked without sleeping.
import type { FakeClock } from '../../src/util/clock.ts';
import type { ProbeResult } from '../../src/health/probe.ts';

export interface ScriptedOutcome {
  exitCode: number;
  /** How long the probe runs (clock ms); Infinity = until aborted. Default 0. */
  durationMs?: number;
  output?: string;
}

export interface ScriptedRunner {
  run: (signal: AbortSignal) => Promise<ProbeResult>;
  /** Clock time of every call, in order. */
  calls: number[];
  /** Abort signal of every call, in order. */
  signals: AbortSignal[];
}

/** Outcomes are used in order; the last one repeats once the script runs out. */
export function scriptedRunner(clock: FakeClock, script: ScriptedOutcome[]): ScriptedRunner {
  const calls: number[] = [];
  const signals: AbortSignal[] = [];
  const run = (signal: AbortSignal) => {
    const outcome = script[Math.min(calls.length, script.length - 1)];
    if (!outcome) throw new Error('scriptedRunner needs at least one outcome');
    const start = clock.now();
    calls.push(start);
    signals.push(signal);
    return new Promise<ProbeResult>((resolve) => {
      const result = (exitCode: number, output: string) => ({
        exitCode,
        output,
        start,
        end: clock.now(),
      });
      const duration = outcome.durationMs ?? 0;
      const done = Number.isFinite(duration)
        ? clock.setTimeout(() => resolve(result(outcome.exitCode, outcome.output ?? '')), duration)
        : undefined;
      const onAbort = () => {
        done?.cancel();
        resolve(result(-1, 'aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
  return { run, calls, signals };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Advances the clock in small steps, letting promise callbacks run between steps (the monitor
 * schedules its next probe from a promise callback). Keep scripted times multiples of `step`. */
export async function advance(clock: FakeClock, ms: number, step = 5): Promise<void> {
  await settle();
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await settle();
  }
}
