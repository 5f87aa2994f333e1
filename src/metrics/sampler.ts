// One reading of the whole stack, every second and on every scrape: the balancer's counters, the
// engine's replicas, each replica's CPU and memory, restarts and the autoscaler's wishes. Counters
// go through the MonotonicStore, so what Prometheus and the autoscaler see never goes backwards.
import type { LoadSample } from '../engine/autoscaler.ts';
import type { EngineEvent, ReplicaInfo, ReplicaState } from '../engine/events.ts';
import { LATENCY_BUCKETS_MS, type ReplicaStats } from '../proxy/index.ts';
import { family, histogramSamples, type Family, type Labels, type Sample } from './families.ts';
import type { MonotonicStore } from './monotonic.ts';
import { RestartCounter } from './restarts.ts';
import type { TrafficSource } from './traffic-source.ts';

export interface ReplicaUsage {
  cpuSeconds: number;
  memoryBytes: number;
}

export interface SamplerSources {
  traffic: TrafficSource;
  engine: {
    readonly project: { services: Record<string, unknown> };
    replicas(): ReplicaInfo[];
    on(event: 'event', fn: (e: EngineEvent) => void): unknown;
    off(event: 'event', fn: (e: EngineEvent) => void): unknown;
  };
  /** CPU and memory of the live replicas, by name. */
  usage: (replicas: ReplicaInfo[]) => Map<string, ReplicaUsage>;
  /** The autoscaler's desired count per autoscaled service. */
  autoscaled: () => Record<string, number>;
}

const STATES: ReplicaState[] = ['waiting', 'starting', 'running', 'stopping', 'backoff', 'exited'];
const BUCKET_SECONDS = LATENCY_BUCKETS_MS.map((ms) => ms / 1000);
/** Store keys of what is only read, not exported: all requests (HTTP and TCP) per replica. */
const REQUESTS = '_requests';

export class MetricsSampler {
  private readonly restarts = new RestartCounter();
  private last?: LoadSample;
  private closed = false;
  /** Samples run one after the other: two at once could apply an older reading after a newer
   * one, which would look like a counter reset. */
  private queue: Promise<unknown> = Promise.resolve();
  private families: Family[] = [];
  /** Per replica: every status code seen, each 0, to fill in the ones a snapshot lacks. */
  private readonly codesSeen = new Map<string, Record<string, number>>();

  constructor(
    private readonly src: SamplerSources,
    private readonly store: MonotonicStore,
    /** Told after every save: the error when the bases could not be written, else undefined.
     * Counting goes on from memory meanwhile; a daemon restarted then may count from older bases. */
    private readonly saved: (err: unknown) => void = () => {},
  ) {
    src.engine.on('event', this.restarts.listener);
    // The statuses an earlier daemon saw count as seen: a balancer that restarted with it reads 0
    // for them until it answers one, which the store then takes as counted from zero.
    for (const [{ replica = '', code = '' }] of this.stored('herd_http_requests_total'))
      this.codesSeen.set(replica, { ...this.codesSeen.get(replica), [code]: 0 });
  }

  /** The latest reading, as the autoscaler takes it; undefined before the first sample. */
  load(): LoadSample | undefined {
    return this.last;
  }

  /** Stops reading: later samples are empty (the balancer may be closed already). */
  close(): void {
    this.closed = true;
    this.last = undefined;
    this.src.engine.off('event', this.restarts.listener);
  }

  /** Reads everything now, saves the counters' bases, and returns the families to export. */
  sample(): Promise<Family[]> {
    const next = this.queue.then(() => this.read());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<Family[]> {
    if (this.closed) return [];
    const stats = await this.src.traffic();
    const replicas = this.src.engine.replicas();
    const usage = this.src.usage(replicas);
    for (const t of stats) this.count(t);
    for (const [name, u] of usage) {
      const service = replicas.find((r) => r.name === name)?.service ?? '';
      const labels = { service, replica: name };
      this.counter('herd_replica_cpu_seconds_total', labels, u.cpuSeconds, true);
    }
    for (const [key, n] of this.restarts.counts) {
      const [service = '', reason = ''] = key.split('\0');
      this.counter('herd_restarts_total', { service, reason }, n);
    }
    try {
      this.store.save();
      this.saved(undefined);
    } catch (err) {
      this.saved(err);
    }
    const requests: Record<string, number> = {};
    for (const [k, v] of this.stored(REQUESTS))
      requests[k.service!] = (requests[k.service!] ?? 0) + v;
    const inFlight: Record<string, number> = {};
    for (const t of stats)
      inFlight[t.service] = (inFlight[t.service] ?? 0) + t.inFlight + t.connections;
    this.last = { requests, usage: Object.fromEntries(usage), inFlight };
    this.families = this.build(stats, replicas, usage);
    return this.families;
  }

  private count(t: ReplicaStats): void {
    const id = { service: t.service, replica: t.replica };
    this.counter(REQUESTS, id, t.requests);
    // A status the balancer has not seen since it restarted reads as 0, so its first answers
    // after the restart count.
    const codes = { ...this.codesSeen.get(t.replica), ...t.codes };
    for (const [code, n] of Object.entries(codes)) {
      codes[code] = 0;
      this.counter('herd_http_requests_total', { ...id, code }, n);
    }
    this.codesSeen.set(t.replica, codes);
    this.counter('herd_tcp_connections_total', id, t.tcpConnections ?? 0);
    t.latencyBuckets.forEach((n, i) => this.counter('_bucket', { ...id, i: String(i) }, n));
    this.counter('_sum', id, t.latencySumMs / 1000);
  }

  private counter(name: string, labels: Labels, raw: number, whole = false): number {
    return this.store.value(JSON.stringify([name, labels]), raw, whole);
  }

  /** Every stored series of `name`, with its labels. */
  private stored(name: string): [Labels, number][] {
    const out: [Labels, number][] = [];
    for (const [key, v] of this.store.entries()) {
      const [n, labels] = JSON.parse(key) as [string, Labels];
      if (n === name) out.push([labels, v]);
    }
    return out;
  }

  private build(
    stats: ReplicaStats[],
    replicas: ReplicaInfo[],
    usage: Map<string, ReplicaUsage>,
  ): Family[] {
    const asSamples = (name: string): Sample[] =>
      this.stored(name).map(([labels, value]) => ({ labels, value }));
    const services = Object.keys(this.src.engine.project.services);
    const byState = services.flatMap((service) =>
      STATES.map((state) => ({
        labels: { service, state },
        value: replicas.filter((r) => r.service === service && r.state === state).length,
      })),
    );
    const ready = services.map((service) => ({
      labels: { service },
      value: replicas.filter((r) => r.service === service && r.ready && r.state === 'running')
        .length,
    }));
    const live = (fn: (t: ReplicaStats) => number) =>
      stats.map((t) => ({ labels: { service: t.service, replica: t.replica }, value: fn(t) }));
    const memory = [...usage].map(([name, u]) => ({
      labels: { service: replicas.find((r) => r.name === name)?.service ?? '', replica: name },
      value: u.memoryBytes,
    }));
    const desired = Object.entries(this.src.autoscaled()).map(([service, value]) => ({
      labels: { service },
      value,
    }));
    return [
      family('herd_http_requests_total', 'counter', asSamples('herd_http_requests_total')),
      family('herd_http_request_duration_seconds', 'histogram', this.histograms()),
      family(
        'herd_http_requests_in_flight',
        'gauge',
        live((t) => t.inFlight),
      ),
      family('herd_tcp_connections_total', 'counter', asSamples('herd_tcp_connections_total')),
      family(
        'herd_connections_open',
        'gauge',
        live((t) => t.connections),
      ),
      family('herd_replicas', 'gauge', byState),
      family('herd_replicas_ready', 'gauge', ready),
      family('herd_restarts_total', 'counter', asSamples('herd_restarts_total')),
      family(
        'herd_replica_cpu_seconds_total',
        'counter',
        asSamples('herd_replica_cpu_seconds_total'),
      ),
      family('herd_replica_memory_bytes', 'gauge', memory),
      family('herd_autoscale_desired_replicas', 'gauge', desired),
    ];
  }

  private histograms(): Sample[] {
    const byReplica = new Map<string, { labels: Labels; counts: number[]; sum: number }>();
    const entry = (l: Labels) => {
      const key = `${l.service}\0${l.replica}`;
      let e = byReplica.get(key);
      if (!e) {
        e = { labels: { service: l.service!, replica: l.replica! }, counts: [], sum: 0 };
        e.counts = new Array<number>(BUCKET_SECONDS.length + 1).fill(0);
        byReplica.set(key, e);
      }
      return e;
    };
    for (const [l, v] of this.stored('_bucket')) entry(l).counts[Number(l.i)] = v;
    for (const [l, v] of this.stored('_sum')) entry(l).sum = v;
    return [...byReplica.values()].flatMap((e) =>
      histogramSamples(e.labels, BUCKET_SECONDS, e.counts, e.sum),
    );
  }
}
