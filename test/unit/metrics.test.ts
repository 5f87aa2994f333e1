// The metrics pieces on their own: counters that never go backwards (and carry on from the state
// dir), the sampler's families from the balancer's counters, the exporter's text, and the load-time
// errors of x-herd.autoscale and x-herd.metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject } from '../../src/compose/load.ts';
import { ComposeError } from '../../src/compose/errors.ts';
import { formatEvent } from '../../src/cli/format/events.ts';
import type { EngineEvent, ReplicaInfo } from '../../src/engine/events.ts';
import { checkMetrics } from '../../src/compose/metrics-settings.ts';
import { MetricsExporter } from '../../src/metrics/exporter.ts';
import { histogramSamples } from '../../src/metrics/families.ts';
import { MonotonicStore } from '../../src/metrics/monotonic.ts';
import { MetricsSampler } from '../../src/metrics/sampler.ts';
import type { ReplicaStats } from '../../src/proxy/index.ts';
import { tempDir } from '../helpers/tmp.ts';

test('a counter that drops keeps its exported value, and a new store carries on from the file', () => {
  const file = join(tempDir('mono'), 'metrics.json');
  const a = new MonotonicStore(file);
  assert.equal(a.value('k', 10), 10);
  assert.equal(a.value('k', 4), 10, 'a partial reset (one of two workers restarted)');
  assert.equal(a.value('k', 7), 13);
  a.save();
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const b = new MonotonicStore(file);
  assert.equal(b.value('k', 2), 15, 'a new daemon whose balancer counted 2 since it started');
  assert.equal(b.value('k', 3), 16);
  assert.deepEqual(b.entries(), [['k', 16]]);
  b.save();
  assert.equal(
    new MonotonicStore(file).value('k', 5),
    18,
    'a balancer that outlived the daemon: 3 → 5',
  );
  // One process's counter (a replica's CPU time): after a drop everything it reads is new.
  assert.equal(b.value('cpu', 4, true), 4);
  assert.equal(b.value('cpu', 1, true), 5, 'the replica restarted and used 1 s since');
  writeFileSync(file, '{"version": 1, "series": {"k": [-1, "x"]}}');
  assert.deepEqual(new MonotonicStore(file).entries(), [], 'a bad file counts from zero');
});

test('histogram buckets become cumulative with +Inf, _sum and _count', () => {
  const s = histogramSamples({ r: 'a' }, [0.01, 0.1], [2, 3, 1], 0.5);
  assert.deepEqual(
    s.map((x) => [x.suffix, x.labels.le ?? '', x.value]),
    [
      ['_bucket', '0.01', 2],
      ['_bucket', '0.1', 5],
      ['_bucket', '+Inf', 6],
      ['_sum', '', 0.5],
      ['_count', '', 6],
    ],
  );
});

function stats(replica: string, requests: number, codes: Record<string, number>): ReplicaStats {
  const latencyBuckets = new Array<number>(13).fill(0);
  latencyBuckets[3] = requests;
  return {
    replica,
    service: 'web',
    requests,
    errors: codes['502'] ?? 0,
    inFlight: 1,
    connections: 0,
    latencyBuckets,
    latencySumMs: requests * 8,
    codes,
    tcpConnections: 0,
  };
}

test('the sampler exports per-code counts that survive a restart, and replicas by state', async () => {
  let traffic = [stats('p-web-1', 30, { '200': 28, '502': 2 })];
  let cpuSeconds = 1.5;
  const replicas = [
    { service: 'web', name: 'p-web-1', state: 'running', ready: true },
    { service: 'web', name: 'p-web-2', state: 'starting' },
  ] as ReplicaInfo[];
  const sampler = new MetricsSampler(
    {
      traffic: async () => traffic,
      engine: {
        project: { services: { web: {} } },
        replicas: () => replicas,
        on: () => undefined,
        off: () => undefined,
      },
      usage: () => new Map([['p-web-1', { cpuSeconds, memoryBytes: 1024 }]]),
      autoscaled: () => ({ web: 2 }),
    },
    new MonotonicStore(),
  );
  await sampler.sample();
  traffic = [stats('p-web-1', 0, {})]; // the balancer restarted…
  await sampler.sample();
  traffic = [stats('p-web-1', 5, { '200': 5 })]; // …and counted 5 since
  cpuSeconds = 0.25; // the replica restarted: its new process used 0.25 s
  const families = await sampler.sample();
  const get = (name: string) => families.find((f) => f.name === name)!.samples;
  assert.deepEqual(
    get('herd_http_requests_total').map((s) => [s.labels.code, s.value]),
    [
      ['200', 33],
      ['502', 2],
    ],
  );
  assert.equal(sampler.load()?.requests.web, 35);
  const count = get('herd_http_request_duration_seconds').find((s) => s.suffix === '_count');
  assert.equal(count?.value, 35);
  const byState = Object.fromEntries(
    get('herd_replicas').map((s) => [s.labels.state, s.value] as const),
  );
  assert.deepEqual([byState.running, byState.starting, byState.exited], [1, 1, 0]);
  assert.deepEqual(
    get('herd_autoscale_desired_replicas').map((s) => s.value),
    [2],
  );
  const text = await new MetricsExporter(() => Promise.resolve(families)).render();
  assert.match(
    text,
    /^herd_http_requests_total\{service="web",replica="p-web-1",code="200"\} 33$/m,
  );
  assert.match(text, /^# TYPE herd_http_request_duration_seconds histogram$/m);
  assert.match(text, /^herd_replica_cpu_seconds_total\{service="web",replica="p-web-1"\} 1.75$/m);
  assert.doesNotMatch(text, /nodejs_active_handles_total/, 'a gauge named _total fails promtool');
});

async function loadErrors(yaml: string): Promise<string[]> {
  const dir = tempDir('autoscale-err');
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  try {
    await loadProject({ cwd: dir, env: {} });
  } catch (err) {
    assert.ok(err instanceof ComposeError, String(err));
    return err.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
  return assert.fail('expected the load to fail');
}

test('bad autoscale and metrics settings are load errors at file:line:col', async () => {
  const lines = await loadErrors(
    [
      'x-herd:',
      '  metrics: { listen: "127.0.0.1:99999" }',
      'services:',
      '  a:',
      '    command: x',
      '    x-herd:',
      '      autoscale: { min: 3, max: 2, rps: 0 }',
      '  b:',
      '    command: x',
      '    x-herd:',
      '      autoscale: { max: 2, rpm: 5 }',
    ].join('\n'),
  );
  assert.deepEqual(lines, [
    'compose.yaml:7:33: services.a.x-herd.autoscale.max: must be at least min (3), got 2',
    'compose.yaml:7:41: services.a.x-herd.autoscale.rps: expected a number > 0, got 0',
    'compose.yaml:11:28: services.b.x-herd.autoscale.rpm: unknown key (did you mean `rps`?); expected one of: min, max, cpu, memory, rps, redis_list, cooldown, window, idle',
    'compose.yaml:11:18: services.b.x-herd.autoscale: needs a target to scale on: cpu (%), memory (%), rps (per replica) or redis_list',
    'compose.yaml:2:22: x-herd.metrics.listen: port 99999 in "127.0.0.1:99999" is outside 1-65535',
  ]);
});

test('/metrics listens on loopback unless the file names another address', () => {
  const at = (raw: unknown) => checkMetrics(raw).value;
  assert.deepEqual(at({}), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(at({ listen: 9500 }), { host: '127.0.0.1', port: 9500 });
  assert.deepEqual(at({ listen: '0.0.0.0:9500' }), { host: '0.0.0.0', port: 9500 });
  assert.equal(at(undefined), undefined, 'no x-herd.metrics: no endpoint');
});

test('a target the service cannot feed is a load error at its key', async () => {
  const lines = await loadErrors(
    [
      'services:',
      '  worker:',
      '    command: x',
      '    x-herd:',
      '      autoscale: { min: 0, max: 4, rps: 50, memory: 80, idle: 5m }',
      '  udp:',
      '    command: x',
      '    ports: ["5353:53/udp"]',
      '    x-herd: { autoscale: { max: 2, rps: 10 } }',
    ].join('\n'),
  );
  const none = 'has no TCP port herd balances (ports, expose or an x-herd.routes route)';
  assert.deepEqual(lines, [
    'compose.yaml:5:53: services.worker.x-herd.autoscale.memory: is a % of the memory limit, and service "worker" has none: set deploy.resources.limits.memory (or mem_limit), or scale on cpu, rps or redis_list',
    `compose.yaml:5:41: services.worker.x-herd.autoscale.rps: counts requests through herd's balancer, and service "worker" ${none}, so it would read 0: add one, or scale on cpu, memory or redis_list`,
    `compose.yaml:5:63: services.worker.x-herd.autoscale.idle: scale to zero wakes on a request through herd's balancer, and service "worker" ${none}, so it would never wake: add one, or set min: 1`,
    `compose.yaml:9:41: services.udp.x-herd.autoscale.rps: counts requests through herd's balancer, and service "udp" ${none}, so it would read 0: add one, or scale on cpu, memory or redis_list`,
  ]);
  // The same targets with what they need load: a memory limit, and a port (published, exposed,
  // or the one a route of the ingress exposes).
  const dir = tempDir('autoscale-ok');
  writeFileSync(
    join(dir, 'compose.yaml'),
    [
      'x-herd: { ingress: { http: "127.0.0.1:18080" } }',
      'services:',
      '  a:',
      '    command: x',
      '    mem_limit: 256m',
      '    expose: ["5000"]',
      '    x-herd: { autoscale: { min: 0, max: 4, rps: 50, memory: 80, idle: 5m } }',
      '  b:',
      '    command: x',
      '    x-herd: { routes: ["b.localhost/"], autoscale: { max: 2, rps: 10 } }',
    ].join('\n'),
  );
  const p = await loadProject({ cwd: dir, env: {} });
  assert.deepEqual(Object.keys(p.services).sort(), ['a', 'b']);
});

test('events show an autoscale decision with its metric, target and reason', () => {
  const e: EngineEvent = {
    type: 'scaled',
    at: Date.UTC(2026, 0, 1),
    service: 'web',
    from: 1,
    to: 4,
    autoscale: { from: 1, to: 4, metric: 'rps', value: 300, target: 50, reason: 'why: 1 → 4' },
  };
  assert.equal(
    formatEvent(e),
    '2026-01-01T00:00:00.000Z service autoscale web (from=1, to=4, metric=rps, value=300, target=50, reason=why: 1 → 4)\n',
  );
});
