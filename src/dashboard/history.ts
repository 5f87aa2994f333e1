// The last minutes of each service, one sample per tick: requests per second (from the growth of
// the balancer's counters), running replicas, CPU, memory and latency. The page draws its charts
// from these, so a freshly opened tab shows the recent past, not an empty chart.
import type { ReplicaView, StateView } from './types.ts';

export interface Sample {
  /** Daemon clock, ms. */
  t: number;
  rps: number;
  errorsPerSecond: number;
  running: number;
  /** Sum over the service's replicas, % of one core. */
  cpuPercent: number;
  memBytes: number;
  /** The slowest replica's quantiles, seconds (absent when the balancer reports none). */
  p50?: number;
  p99?: number;
}

export type History = Record<string, Sample[]>;

export class HistoryRecorder {
  private readonly series = new Map<string, Sample[]>();
  /** Per replica: the counters at the previous sample (a restarted replica's may start over). */
  private last = new Map<string, { t: number; requests: number; errors: number }>();

  constructor(private readonly keep = 600) {}

  record(state: StateView): void {
    const seen = new Map<string, { t: number; requests: number; errors: number }>();
    for (const svc of state.services) {
      const replicas = state.replicas.filter((r) => r.service === svc.name);
      const sample = this.sample(state.now, replicas, seen);
      const list = this.series.get(svc.name) ?? [];
      list.push(sample);
      if (list.length > this.keep) list.splice(0, list.length - this.keep);
      this.series.set(svc.name, list);
    }
    for (const name of this.series.keys())
      if (!state.services.some((s) => s.name === name)) this.series.delete(name);
    this.last = seen;
  }

  snapshot(): History {
    return Object.fromEntries(this.series);
  }

  private sample(
    now: number,
    replicas: ReplicaView[],
    seen: Map<string, { t: number; requests: number; errors: number }>,
  ): Sample {
    let rps = 0;
    let errorsPerSecond = 0;
    const s: Sample = {
      t: now,
      rps: 0,
      errorsPerSecond: 0,
      running: 0,
      cpuPercent: 0,
      memBytes: 0,
    };
    for (const r of replicas) {
      if (r.state === 'running') s.running++;
      s.cpuPercent += r.cpuPercent ?? 0;
      s.memBytes += r.memBytes ?? 0;
      const traffic = r.traffic;
      if (!traffic) continue;
      const counters = { t: now, requests: traffic.requests, errors: traffic.errors };
      seen.set(r.name, counters);
      const before = this.last.get(r.name);
      const seconds = before ? (now - before.t) / 1000 : 0;
      // Counters that went down belong to a new balancer: count from zero, never negative.
      if (before && seconds > 0 && traffic.requests >= before.requests) {
        rps += (traffic.requests - before.requests) / seconds;
        errorsPerSecond += Math.max(0, traffic.errors - before.errors) / seconds;
      }
      const latency = traffic.latency;
      if (latency?.p50 !== undefined) s.p50 = Math.max(s.p50 ?? 0, latency.p50);
      if (latency?.p99 !== undefined) s.p99 = Math.max(s.p99 ?? 0, latency.p99);
    }
    s.rps = round(rps);
    s.errorsPerSecond = round(errorsPerSecond);
    s.cpuPercent = round(s.cpuPercent);
    return s;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
