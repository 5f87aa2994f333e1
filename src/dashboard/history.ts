// The last minutes of each service, one sample per tick: requests per second (from the growth of
// the balancer's counters), running replicas, CPU, memory and latency. The page draws its charts
// from these, so a freshly opened tab shows the recent past, not an empty chart.
import { LATENCY_BUCKETS_MS } from '../proxy/counters.ts';
import type { History, ReplicaView, Sample, StateView } from './types.ts';

export type { History, Sample } from './types.ts';

export class HistoryRecorder {
  private readonly series = new Map<string, Sample[]>();
  /** Per replica: the counters at the previous sample (a restarted replica's may start over). */
  private last = new Map<string, Seen>();

  constructor(private readonly keep = 600) {}

  record(state: StateView): void {
    const seen = new Map<string, Seen>();
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

  private sample(now: number, replicas: ReplicaView[], seen: Map<string, Seen>): Sample {
    let rps = 0;
    let errorsPerSecond = 0;
    const serviceDelta: number[] = [];
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
      const buckets = traffic.latencyBuckets ?? [];
      seen.set(r.name, { t: now, requests: traffic.requests, errors: traffic.errors, buckets });
      const before = this.last.get(r.name);
      const seconds = before ? (now - before.t) / 1000 : 0;
      // Counters that went down belong to a new balancer: count from zero, never negative.
      if (!before || seconds <= 0 || traffic.requests < before.requests) continue;
      const replicaRps = (traffic.requests - before.requests) / seconds;
      traffic.rps = round(replicaRps);
      rps += replicaRps;
      errorsPerSecond += Math.max(0, traffic.errors - before.errors) / seconds;
      const delta = buckets.map((n, i) => Math.max(0, n - (before.buckets[i] ?? 0)));
      delta.forEach((n, i) => (serviceDelta[i] = (serviceDelta[i] ?? 0) + n));
      const p50 = quantile(delta, 0.5);
      const p99 = quantile(delta, 0.99);
      // The page shows each replica's own latency since the last sample.
      if (p50 !== undefined && p99 !== undefined) traffic.latency = { p50, p99 };
    }
    const p50 = quantile(serviceDelta, 0.5);
    const p99 = quantile(serviceDelta, 0.99);
    if (p50 !== undefined) s.p50 = p50;
    if (p99 !== undefined) s.p99 = p99;
    s.rps = round(rps);
    s.errorsPerSecond = round(errorsPerSecond);
    s.cpuPercent = round(s.cpuPercent);
    return s;
  }
}

interface Seen {
  t: number;
  requests: number;
  errors: number;
  /** Cumulative counts per LATENCY_BUCKETS_MS bucket, plus the overflow bucket. */
  buckets: number[];
}

/** The q-quantile of a bucketed count, in seconds, interpolated within its bucket (as Prometheus'
 * histogram_quantile does); the overflow bucket reads as the last bound. */
export function quantile(buckets: number[], q: number): number | undefined {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (below + n >= rank && n > 0) {
      const upper = LATENCY_BUCKETS_MS[i] ?? LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
      if (i >= LATENCY_BUCKETS_MS.length) return upper / 1000;
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!;
      return (lower + ((rank - below) / n) * (upper - lower)) / 1000;
    }
    below += n;
  }
  return undefined;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
