// The autoscaler: one more source of desired state for the engine. Every second it samples the
// load (requests through the balancer, CPU and memory of each replica), averages it over the
// service's window, asks the HPA's rule (autoscaler-decide.ts) for a replica count and, when that
// differs, sets it with its reason, which `events` and `ps` show.
import { DEFAULT_COOLDOWN_MS, parseAutoscale, type Autoscale } from '../compose/autoscale.ts';
import type { Project, Service } from '../compose/model.ts';
import type { Clock, TimerHandle } from '../util/clock.ts';
import {
  recommend,
  stabilize,
  type Change,
  type Limit,
  type MetricReading,
  type Recommendation,
} from './autoscaler-decide.ts';
import { IdleWatch, idleDecision, wakeDecision, type IdleStatus } from './autoscaler-idle.ts';
import {
  describeQueue,
  QUEUE_METRIC,
  QueueTrouble,
  queueReading,
  recommendQueue,
  type QueueReading,
} from './autoscaler-queue.ts';
import type { AutoscaleDecision, EngineEvent, ReplicaInfo } from './events.ts';

/** The default averaging window: a burst shows within seconds, one slow second does not. */
export const DEFAULT_WINDOW_MS = 3_000;
export const SAMPLE_INTERVAL_MS = 1_000;

/** What the load looked like at one instant; every number only grows (counters) or is a level. */
export interface LoadSample {
  /** Per service: requests the balancer has forwarded to its replicas so far. */
  requests: Record<string, number>;
  /** Per replica name: CPU seconds used so far and resident memory now. */
  usage: Record<string, { cpuSeconds: number; memoryBytes: number }>;
  /** Per service with a `redis_list` target: the list's length now, or why it is unknown. */
  queues?: Record<string, QueueReading>;
  /** Per service: requests and connections in flight now (scale to zero waits for them). */
  inFlight?: Record<string, number>;
}

/** Takes a sample now; undefined when there is nothing to read yet. */
export type LoadSource = () => LoadSample | undefined | Promise<LoadSample | undefined>;

/** The part of the engine the autoscaler drives. */
export interface AutoscaleTarget {
  readonly project: Project;
  replicas(): ReplicaInfo[];
  desired(service: string): number | undefined;
  setScale(service: string, n: number, decision?: AutoscaleDecision): void;
  on(event: 'event', fn: (e: EngineEvent) => void): unknown;
  off(event: 'event', fn: (e: EngineEvent) => void): unknown;
  /** Tells `herd events` something about a service (a list that cannot be read). */
  notice?(service: string, message: string): void;
}

/** One autoscaled service as `ps` shows it. */
export interface AutoscaleStatus {
  service: string;
  min: number;
  max: number;
  desired: number;
  /** The latest readings, one per target. */
  readings: MetricReading[];
  last?: AutoscaleDecision & { at: number };
  /** With `min: 0` and `idle`: how long it has had no request, and whether it is at zero. */
  idle?: IdleStatus;
}

interface Point {
  at: number;
  value: number;
}

interface ServiceHistory {
  requests: Point[];
  recommendations: Recommendation[];
  changes: Change[];
  readings: MetricReading[];
  last?: AutoscaleDecision & { at: number };
}

export class Autoscaler {
  private readonly services = new Map<string, ServiceHistory>();
  /** Per replica name: CPU seconds samples. */
  private readonly cpu = new Map<string, Point[]>();
  private memory: LoadSample['usage'] = {};
  private queues: NonNullable<LoadSample['queues']> = {};
  private readonly queueTrouble = new QueueTrouble((s, m) => this.target.notice?.(s, m));
  private readonly idle = new IdleWatch();
  private timer?: TimerHandle;
  private running = false;
  private readonly onEvent = (e: EngineEvent) => this.heard(e);

  constructor(
    private readonly target: AutoscaleTarget,
    private readonly load: LoadSource,
    private readonly clock: Clock,
  ) {}

  /** Samples now and then every second until stop(); each decision uses the sample taken for
   * it, so a slow sample delays the decision instead of feeding it stale numbers. */
  start(): void {
    this.target.on('event', this.onEvent);
    this.running = true;
    const loop = async () => {
      const started = this.clock.now();
      try {
        const sample = await this.load();
        if (this.running && sample) this.tick(sample);
      } catch (err) {
        process.stderr.write(`herd: autoscaler: ${String(err)}\n`);
      }
      if (!this.running) return;
      const next = Math.max(0, started + SAMPLE_INTERVAL_MS - this.clock.now());
      this.timer = this.clock.setTimeout(() => void loop(), next);
    };
    void loop();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.target.off('event', this.onEvent);
  }

  /** One decision per autoscaled service on `sample`. */
  tick(sample: LoadSample): void {
    const now = this.clock.now();
    this.memory = sample.usage;
    this.queues = sample.queues ?? {};
    for (const [name, u] of Object.entries(sample.usage))
      this.remember(this.cpu, name, now, u.cpuSeconds);
    const replicas = this.target.replicas();
    for (const name of this.cpu.keys()) if (!(name in sample.usage)) this.cpu.delete(name);
    for (const service of Object.values(this.target.project.services)) {
      const settings = autoscaleOf(service);
      if (!settings) {
        this.services.delete(service.name);
        continue;
      }
      this.queueTrouble.heard(service.name, settings, this.queues[service.name]);
      const h = this.history(service.name, now);
      remember(h.requests, now, sample.requests[service.name] ?? 0, windowOf(settings));
      const busy = sample.inFlight?.[service.name] ?? 0;
      this.idle.observe(service.name, now, sample.requests[service.name] ?? 0, busy);
      this.decide(service, settings, replicas, now);
    }
  }

  status(): AutoscaleStatus[] {
    const out: AutoscaleStatus[] = [];
    for (const service of Object.values(this.target.project.services)) {
      const settings = autoscaleOf(service);
      const h = this.services.get(service.name);
      if (!settings) continue;
      const s: AutoscaleStatus = {
        service: service.name,
        min: settings.min,
        max: settings.max,
        desired: this.target.desired(service.name) ?? service.scale,
        readings: h?.readings ?? [],
      };
      if (h?.last) s.last = h.last;
      if (settings.idleMs !== undefined)
        s.idle = this.idle.status(service.name, settings.idleMs, this.clock.now());
      out.push(s);
    }
    return out;
  }

  private decide(service: Service, a: Autoscale, all: ReplicaInfo[], now: number): void {
    const current = this.target.desired(service.name);
    if (current === undefined) return;
    const mine = all.filter((r) => r.service === service.name);
    // A stopped service (`herd stop`) stays stopped: only its own verbs bring it back.
    if (mine.length > 0 && mine.every((r) => r.state === 'exited')) return;
    const h = this.history(service.name, now);
    if (a.idleMs !== undefined && this.scaleToZero(service.name, a.idleMs, current, mine, h, now))
      return;
    h.readings = this.readings(service, a, mine, h, now);
    const wanted = h.readings.map((r) =>
      r.metric === QUEUE_METRIC ? recommendQueue(current, r) : recommend(current, r),
    );
    const best = wanted.length > 0 ? Math.max(...wanted) : current;
    const driver = wanted.indexOf(best);
    h.recommendations.push({ at: now, replicas: best });
    const cooldown = a.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    h.recommendations = h.recommendations.filter((r) => r.at > now - cooldown - 1);
    h.changes = h.changes.filter((c) => c.at > now - 60_000);
    // Scale to zero is idleness's to decide (scaleToZero): the HPA's rule keeps one replica.
    const floor = { ...a, min: Math.max(a.min, a.idleMs === undefined ? 0 : 1) };
    const { replicas, limit } = stabilize(now, current, h.recommendations, h.changes, {
      min: floor.min,
      max: a.max,
      cooldownMs: cooldown,
    });
    if (replicas === current) return;
    const reading = h.readings[driver];
    const decision: AutoscaleDecision = {
      from: current,
      to: replicas,
      metric: reading?.metric ?? 'bounds',
      value: round(reading?.value ?? 0),
      target: reading?.target ?? 0,
      reason: explain(current, replicas, reading, limit, floor, cooldown),
    };
    h.changes.push({ at: now, from: current, to: replicas });
    h.last = { ...decision, at: now };
    this.target.setScale(service.name, replicas, decision);
  }

  /** Scale to zero: true when idleness decides (the service stays at zero until a request wakes
   * it, or it had no request for `idleMs` and goes there now). */
  private scaleToZero(
    service: string,
    idleMs: number,
    current: number,
    mine: ReplicaInfo[],
    h: ServiceHistory,
    now: number,
  ): boolean {
    if (current === 0) return true;
    // Until a replica is ready the requests that woke it are held, not counted: not idle.
    if (!mine.some((r) => r.ready === true && r.state === 'running')) this.idle.woke(service, now);
    const idleFor = this.idle.idleFor(service, now);
    if (idleFor < idleMs) return false;
    const decision = idleDecision(current, idleFor, idleMs);
    h.changes.push({ at: now, from: current, to: 0 });
    h.recommendations = [];
    h.readings = [];
    h.last = { ...decision, at: now };
    this.idle.zeroed(service, now);
    this.target.setScale(service, 0, decision);
    return true;
  }

  /** The balancer holds `held` requests for `service` and has no replica to send them to: a
   * service scaled to zero gets one at once (the proxy's notice, not the next sample). */
  wake(service: string, held = 1): void {
    const svc = this.target.project.services[service];
    const a = svc && autoscaleOf(svc);
    if (!a || a.idleMs === undefined || this.target.desired(service) !== 0) return;
    const now = this.clock.now();
    const decision = wakeDecision(held);
    const h = this.history(service, now);
    this.idle.woke(service, now);
    h.recommendations = [{ at: now, replicas: 1 }];
    h.changes.push({ at: now, from: 0, to: 1 });
    h.last = { ...decision, at: now };
    this.target.setScale(service, 1, decision);
  }

  /** Each target's average over the window, over the replicas that are ready. */
  private readings(
    service: Service,
    a: Autoscale,
    mine: ReplicaInfo[],
    h: ServiceHistory,
    now: number,
  ): MetricReading[] {
    const live = mine.filter((r) => r.state === 'running' || r.state === 'starting');
    const ready = live.filter((r) => r.ready === true && r.state === 'running');
    const missing = live.length - ready.length;
    const window = windowOf(a);
    const out: MetricReading[] = [];
    if (a.rps !== undefined) {
      const rate = rateOver(h.requests, now, window);
      const measured = rate === undefined ? 0 : ready.length;
      const value = measured > 0 ? rate! / measured : 0;
      out.push({ metric: 'rps', target: a.rps, value, measured, missing });
    }
    if (a.cpu !== undefined) {
      const cores = service.resources.limits.cpus ?? 1;
      const per = ready.flatMap((r) => {
        const rate = rateOver(this.cpu.get(r.name) ?? [], now, window);
        return rate === undefined ? [] : [(rate * 100) / cores];
      });
      out.push(average('cpu', a.cpu, per, live.length));
    }
    if (a.memory !== undefined) {
      const limit = service.resources.limits.memoryBytes;
      const per = ready.flatMap((r) => {
        const m = this.memory[r.name];
        return m && limit ? [(m.memoryBytes * 100) / limit] : [];
      });
      out.push(average('memory', a.memory, per, live.length));
    }
    const queue = queueReading(a, this.queues[service.name]);
    if (queue) out.push(queue);
    return out;
  }

  /** A manual `herd scale` counts as a recommendation, so a scale-up by hand holds for the
   * cooldown before the autoscaler takes it back down. */
  private heard(e: EngineEvent): void {
    if (e.type !== 'scaled' || e.autoscale) return;
    const h = this.services.get(e.service);
    if (!h) return;
    const now = this.clock.now();
    h.recommendations.push({ at: now, replicas: e.to });
    h.changes.push({ at: now, from: e.from, to: e.to });
    this.idle.woke(e.service, now);
  }

  private history(service: string, now: number): ServiceHistory {
    let h = this.services.get(service);
    if (!h) {
      // The count it starts at stands for a full cooldown, as if recommended just now.
      const start = this.target.desired(service) ?? 0;
      h = {
        requests: [],
        recommendations: [{ at: now, replicas: start }],
        changes: [],
        readings: [],
      };
      this.services.set(service, h);
    }
    return h;
  }

  private remember(map: Map<string, Point[]>, key: string, at: number, value: number): void {
    let points = map.get(key);
    if (!points) map.set(key, (points = []));
    // A replica whose CPU time went down is a new process: its old samples say nothing.
    if (points.length > 0 && value < points[points.length - 1]!.value) points.length = 0;
    remember(points, at, value, 60_000);
  }
}

function autoscaleOf(service: Service): Autoscale | undefined {
  const raw = service.herd.extra.autoscale;
  return raw === undefined ? undefined : parseAutoscale(service.name, raw);
}

function windowOf(a: Autoscale): number {
  return a.windowMs ?? DEFAULT_WINDOW_MS;
}

function remember(points: Point[], at: number, value: number, keepMs: number): void {
  points.push({ at, value });
  while (points.length > 2 && points[1]!.at <= at - keepMs) points.shift();
}

/** The counter's rate per second over the window (from the oldest sample inside it). */
function rateOver(points: Point[], now: number, windowMs: number): number | undefined {
  const newest = points[points.length - 1];
  const oldest = points.find((p) => p.at >= now - windowMs - SAMPLE_INTERVAL_MS / 2);
  if (!newest || !oldest || newest.at <= oldest.at) return undefined;
  return Math.max(0, newest.value - oldest.value) / ((newest.at - oldest.at) / 1000);
}

function average(metric: string, target: number, per: number[], live: number): MetricReading {
  const value = per.length > 0 ? per.reduce((s, v) => s + v, 0) / per.length : 0;
  return { metric, target, value, measured: per.length, missing: live - per.length };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const UNITS: Record<string, string> = { rps: ' req/s', cpu: ' %', memory: ' %' };

function explain(
  from: number,
  to: number,
  r: MetricReading | undefined,
  limit: Limit,
  a: Autoscale,
  cooldownMs: number,
): string {
  const unit = r ? (UNITS[r.metric] ?? '') : '';
  const measured = !r
    ? 'no measurement'
    : r.metric === QUEUE_METRIC
      ? describeQueue(r, a)
      : `${r.metric} ${round(r.value)}${unit} per ready replica (${r.measured} ready), target ${r.target}${unit}`;
  const why =
    limit === 'max'
      ? `, capped at max ${a.max}`
      : limit === 'min'
        ? `, kept at min ${a.min}`
        : limit === 'step'
          ? ', at most double or +4 replicas per 15 s'
          : to < from
            ? `, low for the ${Math.round(cooldownMs / 1000)} s cooldown`
            : '';
  return `${measured}${why}: ${from} → ${to}`;
}
