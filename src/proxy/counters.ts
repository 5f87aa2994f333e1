// Per-replica traffic counters: cheap enough to update on every request (no allocation),
// read by `ps`, metrics and autoscaling through Proxy.stats().
import { traceRequest } from './trace.ts';

/** Upper bounds (ms) of the latency histogram buckets; a final bucket catches the rest. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

export interface ReplicaStats {
  replica: string;
  service: string;
  requests: number;
  /** 5xx answers from the replica plus failures (connect errors, resets, timeouts). */
  errors: number;
  inFlight: number;
  /** Open TCP-mode connections and upgraded tunnels (WebSocket…). */
  connections: number;
  /** counts per LATENCY_BUCKETS_MS bucket, plus one overflow bucket at the end */
  latencyBuckets: number[];
  latencySumMs: number;
  /** Final answers by HTTP status code (metrics' `code` label). */
  codes?: Record<string, number>;
  /** TCP-mode connections made to the replica so far (metrics). */
  tcpConnections?: number;
}

export class ReplicaCounters {
  requests = 0;
  errors = 0;
  inFlight = 0;
  connections = 0;
  latencySumMs = 0;
  tcpConnections = 0;
  /** status → count; a key is allocated once per status code ever seen. */
  readonly codes: Record<string, number> = {};
  readonly buckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);

  constructor(
    readonly replica: string,
    readonly service: string,
  ) {}

  observe(ms: number): void {
    traceRequest?.(this.replica, ms, this.errors);
    this.latencySumMs += ms;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.buckets[i]!++;
  }

  /** The replica's final answer had this status (5xx counts as an error). */
  answered(status: number): void {
    this.codes[status] = (this.codes[status] ?? 0) + 1;
    if (status >= 500) this.errors++;
  }

  snapshot(): ReplicaStats {
    return {
      replica: this.replica,
      service: this.service,
      requests: this.requests,
      errors: this.errors,
      inFlight: this.inFlight,
      connections: this.connections,
      latencyBuckets: [...this.buckets],
      latencySumMs: this.latencySumMs,
      codes: { ...this.codes },
      tcpConnections: this.tcpConnections,
    };
  }
}

/** Add up counters of the same replica from several processes. */
export function sumStats(...lists: ReplicaStats[][]): ReplicaStats[] {
  const out = new Map<string, ReplicaStats>();
  for (const list of lists) {
    for (const t of list) {
      const o = out.get(t.replica);
      if (!o) {
        out.set(t.replica, { ...t, latencyBuckets: [...t.latencyBuckets], codes: { ...t.codes } });
        continue;
      }
      o.requests += t.requests;
      o.errors += t.errors;
      o.inFlight += t.inFlight;
      o.connections += t.connections;
      o.latencySumMs += t.latencySumMs;
      o.tcpConnections = (o.tcpConnections ?? 0) + (t.tcpConnections ?? 0);
      const codes = (o.codes ??= {});
      for (const [c, n] of Object.entries(t.codes ?? {})) codes[c] = (codes[c] ?? 0) + n;
      t.latencyBuckets.forEach((n, i) => (o.latencyBuckets[i] = (o.latencyBuckets[i] ?? 0) + n));
    }
  }
  return [...out.values()];
}
