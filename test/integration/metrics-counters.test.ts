// herd_http_requests_total never goes backwards, with the real pieces: a balancer of two worker
// processes counting real requests, read as the daemon reads it (proxyTraffic), the sampler, and
// the store saving its bases to a file. A worker killed with -9 (its replacement counts from
// zero), the balancer's primary killed -9 (the daemon's handle starts another), and a new
// daemon reading the saved bases with yet another balancer: the exported count is every request
// answered, each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MonotonicStore } from '../../src/metrics/monotonic.ts';
import { MetricsSampler } from '../../src/metrics/sampler.ts';
import { proxyTraffic } from '../../src/metrics/traffic-source.ts';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import {
  freePort,
  get,
  httpBackend,
  makeProject,
  makeService,
  port,
  replica,
  type Backend,
} from '../helpers/backends.ts';
import { tempDir } from '../helpers/tmp.ts';
import { waitUntil } from '../helpers/wait.ts';

/** A balancer of two worker processes for `web`, with one replica: the backend. */
async function balancer(backend: Backend): Promise<{ proxy: Proxy; port: number }> {
  const lp = await freePort();
  const web = makeService('web', { ports: [port(lp, 80, { appProtocol: 'http' })] });
  const proxy = createProxy({ ...makeProject([web]), herd: { extra: { proxy: { workers: 2 } } } });
  await proxy.listen();
  proxy.replicaReady(replica('web', 1, backend.port));
  return { proxy, port: lp };
}

/** The daemon's sampler over `proxy`, its bases kept in `file`. */
function sampler(proxy: Proxy, file: string): MetricsSampler {
  const info = replica('web', 1, 0);
  return new MetricsSampler(
    {
      traffic: proxyTraffic(proxy),
      engine: {
        project: { services: { web: {} } },
        replicas: () => [{ ...info, ready: true }],
        on: () => undefined,
        off: () => undefined,
      },
      usage: () => new Map(),
      autoscaled: () => ({}),
    },
    new MonotonicStore(file),
  );
}

/** herd_http_requests_total{service="web",code="200"} as a scrape would export it now. */
async function exported(s: MetricsSampler): Promise<number> {
  const families = await s.sample();
  const f = families.find((x) => x.name === 'herd_http_requests_total');
  return (f?.samples ?? [])
    .filter((x) => x.labels.service === 'web' && x.labels.code === '200')
    .reduce((n, x) => n + x.value, 0);
}

async function requests(lp: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal((await get(lp)).status, 200);
}

test('the request counter carries on across a worker, a balancer and a daemon restart', async () => {
  const backend = await httpBackend('web');
  const file = join(tempDir('metrics-counters'), 'metrics.json');
  let { proxy, port: lp } = await balancer(backend);
  try {
    const daemon = sampler(proxy, file);
    await requests(lp, 20);
    assert.equal(await exported(daemon), 20);

    // A worker killed -9: the primary starts another, which counts from zero.
    const [old] = proxy.workerPids();
    process.kill(old!, 'SIGKILL');
    await waitUntil(
      'a new worker',
      () => proxy.workerPids().length === 2 && !proxy.workerPids().includes(old!),
      10_000,
    );
    assert.equal(await exported(daemon), 20);
    await requests(lp, 10);
    assert.equal(await exported(daemon), 30);

    // The balancer's primary killed -9: the daemon's proxy handle starts another on the same
    // port, whose counts start from zero. Sampled before and after it serves.
    const primary = proxy.primaryPid()!;
    process.kill(primary, 'SIGKILL');
    await waitUntil(
      'a new proxy primary',
      () => (proxy.primaryPid() ?? primary) !== primary && proxy.workerPids().length === 2,
      20_000,
    );
    await waitUntil(
      'the port served again',
      () =>
        get(lp).then(
          (r) => r.status === 200,
          () => false,
        ),
      20_000,
    );
    // The first reading after it may miss what the new primary answered before it (the
    // request just made): a drop is taken for one worker of several. Never backwards, though.
    const after = await exported(daemon);
    assert.ok(after >= 30, `never backwards: ${after}`);
    await requests(lp, 5);
    assert.equal(await exported(daemon), after + 5);
    daemon.close();

    // A daemon killed -9, and a new one with a new balancer (both count from zero): its first
    // reading (a daemon samples every second from its start) comes before the traffic.
    await proxy.close();
    ({ proxy, port: lp } = await balancer(backend));
    const next = sampler(proxy, file);
    assert.equal(await exported(next), after + 5);
    await requests(lp, 7);
    assert.equal(await exported(next), after + 12);
    next.close();
  } finally {
    await proxy.close();
    await backend.close();
  }
});
