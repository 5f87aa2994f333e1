// `x-herd.dashboard.listen` on the metrics' address: one server answers both, as the daemon wires
// them (openDashboard and the exporter on one HttpHosts). /metrics is Prometheus' text without a
// token; everything else is the dashboard's, token and all, WebSocket included. A re-applied file
// moving the page away leaves /metrics where it was, and moving it back shares again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import type { Project } from '../../src/compose/model.ts';
import { openDashboard } from '../../src/daemon/dashboard-host.ts';
import { daemonPaths } from '../../src/daemon/paths.ts';
import { MetricsExporter } from '../../src/metrics/exporter.ts';
import { HttpHosts } from '../../src/util/http-host.ts';
import { freePort, makeProject } from '../helpers/backends.ts';
import { tempDir } from '../helpers/tmp.ts';

interface Answer {
  status: number;
  type: string;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function withDashboard(port: number | undefined): Project {
  const p = makeProject([]);
  return port === undefined
    ? p
    : { ...p, herd: { ...p.herd, extra: { dashboard: { listen: `127.0.0.1:${port}` } } } };
}

/** Opens /ws with the token; resolves with the first message's type, or the refusal. */
function firstMessage(port: number, token?: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      origin: `http://127.0.0.1:${port}`,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    ws.once('message', (data: Buffer) => {
      resolve((JSON.parse(data.toString()) as { type: string }).type);
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
    ws.once('error', (err) => resolve(`error ${err.message}`));
  });
}

test('the dashboard and /metrics on one address: one server, /metrics open, the rest behind the token', async () => {
  const [shared, other] = [await freePort(), await freePort()];
  const paths = daemonPaths(tempDir('dash-share'));
  const hosts = new HttpHosts();
  const exporter = new MetricsExporter(() =>
    Promise.resolve([
      {
        name: 'herd_replicas',
        help: 'Replicas.',
        type: 'gauge' as const,
        samples: [{ labels: { service: 'web', state: 'running' }, value: 2 }],
      },
    ]),
  );
  const dashboard = await openDashboard(withDashboard(shared), paths, hosts);
  try {
    // The daemon opens the page first, then /metrics: the second joins the first's server.
    await exporter.listen({ host: '127.0.0.1', port: shared }, hosts);
    const token = new URL(dashboard.url!).searchParams.get('token')!;

    const metrics = await get(shared, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /^herd_replicas\{service="web",state="running"\} 2$/m);
    assert.match(metrics.body, /^# TYPE process_cpu_user_seconds_total counter$/m);

    const refused = await get(shared, '/');
    assert.equal(refused.status, 401);
    assert.match(refused.body, /needs the access token/);
    const page = await get(shared, '/', { authorization: `Bearer ${token}` });
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script[^>]+src="\/assets\/app\.js"/);
    assert.equal((await get(shared, '/api/state')).status, 401);
    assert.equal(await firstMessage(shared), 'refused 401');
    // The live feed takes the upgrade (no daemon answers behind it here, so it may say so first).
    assert.match(await firstMessage(shared, token), /^(snapshot|error)$/);

    // `herd up` with the page moved: /metrics stays, alone, and the page answers at its new port.
    await dashboard.apply(withDashboard(other));
    assert.equal((await get(shared, '/metrics')).status, 200);
    const gone = await get(shared, '/', { authorization: `Bearer ${token}` });
    assert.deepEqual([gone.status, gone.body], [404, 'herd serves /metrics\n']);
    assert.equal((await get(other, '/', { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await get(other, '/metrics')).status, 401);

    // …and back onto the metrics' address, then no page at all.
    await dashboard.apply(withDashboard(shared));
    assert.equal((await get(shared, '/', { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await get(shared, '/metrics')).status, 200);
    await assert.rejects(get(other, '/'), /ECONNREFUSED/);
    await dashboard.apply(withDashboard(undefined));
    assert.equal((await get(shared, '/metrics')).status, 200);
    assert.equal((await get(shared, '/')).status, 404);
  } finally {
    await dashboard.close();
    await exporter.close();
  }
  // Both gone: the port is closed.
  await assert.rejects(get(shared, '/metrics'), /ECONNREFUSED/);
});

test('the same port on two hosts cannot be shared: the error says so and how to fix it', async () => {
  const port = await freePort();
  const hosts = new HttpHosts();
  const exporter = new MetricsExporter(() => Promise.resolve([]));
  await exporter.listen({ host: '0.0.0.0', port }, hosts);
  const dashboard = openDashboard(withDashboard(port), daemonPaths(tempDir('dash-clash')), hosts);
  try {
    await assert.rejects(dashboard, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'PORT_UNAVAILABLE');
      assert.match(
        err.message,
        new RegExp(
          `^the dashboard cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE; herd's /metrics ` +
            `listens on 0\\.0\\.0\\.0:${port}: give both the same address to share one server, or different ports$`,
        ),
      );
      return true;
    });
  } finally {
    await exporter.close();
  }
});
