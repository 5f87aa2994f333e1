// One replica's health state, driven by Compose's (dockerd's) healthcheck timing:
// - the first probe runs one interval after start (start_interval while in the start period);
// - probes never overlap: the next is scheduled only once the previous one has finished;
// - while 'starting' and inside start_period, failures do not count; one success -> 'healthy';
// - afterwards `retries` consecutive failures -> 'unhealthy'; one success -> 'healthy' again.
import type { Healthcheck } from '../compose/model.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import type { ProbeResult } from './probe.ts';
import { formatDuration, truncateOutput } from './output.ts';

export type MonitorStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthMonitorOptions {
  clock: Clock;
  /** Runs one probe. The signal aborts when the monitor stops or the probe times out. */
  run: (signal: AbortSignal) => Promise<ProbeResult>;
  /** Called on transitions only: starting->healthy/unhealthy, healthy<->unhealthy. */
  onChange: (status: 'healthy' | 'unhealthy', last: ProbeResult) => void;
  /** When the replica started (clock time); defaults to the time of start(). */
  startedAt?: number;
}

/** dockerd's defaults; a zero in the model means "default" there too. */
export const HEALTH_DEFAULTS = {
  intervalMs: 30_000,
  timeoutMs: 30_000,
  retries: 3,
  startPeriodMs: 0,
  startIntervalMs: 5_000,
} as const;

/** Results kept, like State.Health.Log. */
export const HEALTH_LOG_SIZE = 5;

export class HealthMonitor {
  private current: MonitorStatus = 'starting';
  private streak = 0;
  private results: ProbeResult[] = [];
  private timer?: TimerHandle;
  private inFlight?: { abort: AbortController; guard: TimerHandle };
  private started = false;
  private stopped = false;
  private startedAt = 0;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly startPeriodMs: number;
  private readonly startIntervalMs: number;

  constructor(
    check: Healthcheck,
    private readonly opts: HealthMonitorOptions,
  ) {
    this.intervalMs = positiveOr(check.intervalMs, HEALTH_DEFAULTS.intervalMs);
    this.timeoutMs = positiveOr(check.timeoutMs, HEALTH_DEFAULTS.timeoutMs);
    this.retries = positiveOr(check.retries, HEALTH_DEFAULTS.retries);
    this.startPeriodMs = Math.max(0, check.startPeriodMs);
    this.startIntervalMs = positiveOr(check.startIntervalMs, HEALTH_DEFAULTS.startIntervalMs);
  }

  get status(): MonitorStatus {
    return this.current;
  }

  /** The last results, oldest first. */
  get log(): ProbeResult[] {
    return [...this.results];
  }

  get failingStreak(): number {
    return this.streak;
  }

  /** True while a probe is running. */
  get probing(): boolean {
    return this.inFlight !== undefined;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.startedAt = this.opts.startedAt ?? this.opts.clock.now();
    this.scheduleNext();
  }

  /** Stops probing for good; a probe in flight is aborted and its result ignored. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.inFlight) {
      this.inFlight.guard.cancel();
      this.inFlight.abort.abort();
      this.inFlight = undefined;
    }
  }

  private nextDelay(): number {
    const inStartPeriod = this.opts.clock.now() - this.startedAt < this.startPeriodMs;
    return inStartPeriod && this.current === 'starting' ? this.startIntervalMs : this.intervalMs;
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => this.probe(), this.nextDelay());
  }

  private probe(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const clock = this.opts.clock;
    const probeStart = clock.now();
    const abort = new AbortController();
    let recorded = false;
    const record = (result: ProbeResult) => {
      if (recorded || this.stopped) return;
      recorded = true;
      this.handle(result, probeStart);
    };
    // The monitor enforces the timeout itself too, so a runner that hangs still counts as a
    // failure on time; the next probe still waits until the runner has really finished.
    const guard = clock.setTimeout(() => {
      record({
        exitCode: -1,
        output: `Health check exceeded timeout (${formatDuration(this.timeoutMs)})`,
        start: probeStart,
        end: clock.now(),
      });
      abort.abort();
    }, this.timeoutMs);
    const flight = { abort, guard };
    this.inFlight = flight;

    let running: Promise<ProbeResult>;
    try {
      running = this.opts.run(abort.signal);
    } catch (err) {
      running = Promise.reject(err);
    }
    void running
      .catch((err: unknown): ProbeResult => ({
        exitCode: -1,
        output: `health probe failed to run: ${err instanceof Error ? err.message : String(err)}`,
        start: probeStart,
        end: clock.now(),
      }))
      .then((result) => {
        if (this.inFlight !== flight) return; // stopped meanwhile
        guard.cancel();
        this.inFlight = undefined;
        try {
          record(result);
        } finally {
          this.scheduleNext();
        }
      });
  }

  private handle(result: ProbeResult, probeStart: number): void {
    const entry = { ...result, output: truncateOutput(result.output) };
    this.results.push(entry);
    if (this.results.length > HEALTH_LOG_SIZE) this.results.shift();

    if (entry.exitCode === 0) {
      this.streak = 0;
      this.transition('healthy', entry);
      return;
    }
    const graced = this.current === 'starting' && probeStart - this.startedAt < this.startPeriodMs;
    if (graced) return;
    this.streak += 1;
    if (this.streak >= this.retries) this.transition('unhealthy', entry);
  }

  private transition(to: 'healthy' | 'unhealthy', last: ProbeResult): void {
    if (this.current === to) return;
    this.current = to;
    this.opts.onChange(to, last);
  }
}

function positiveOr(value: number, fallback: number): number {
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
