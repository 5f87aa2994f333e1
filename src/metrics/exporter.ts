// GET /metrics in Prometheus' text format: herd's families from a fresh sample plus the daemon
// process's own metrics (prom-client's default collectors), on the address the file names.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import type { ListenAddress } from '../compose/listen-address.ts';
import { HerdError } from '../util/errors.ts';
import type { Family } from './families.ts';

/** prom-client renders any registered object with a name and get(); herd's values are read, not
 * observed (the balancer keeps the histogram buckets), so each family is such an object over the
 * latest sample instead of a prom-client Counter/Histogram fed one event at a time. */
function asMetric(name: string, current: () => Family | undefined): Metric {
  const read = () => {
    const f = current();
    return {
      name,
      help: f?.help ?? '',
      type: f?.type ?? 'gauge',
      aggregator: 'sum',
      values: (f?.samples ?? []).map((s) => ({
        labels: s.labels,
        value: s.value,
        metricName: name + (s.suffix ?? ''),
      })),
    };
  };
  return { name, get: async () => read() } as unknown as Metric;
}

export class MetricsExporter {
  private readonly registry = new Registry();
  private families = new Map<string, Family>();
  private server?: Server;

  /** `sample` is called on every scrape, so a scrape sees the counters as they are now. */
  constructor(private readonly sample: () => Promise<Family[]>) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges `nodejs_active_*_total`, which Prometheus' own lint
    // (promtool check metrics) rejects: a `_total` suffix promises a counter.
    for (const m of this.registry.getMetricsAsArray() as unknown as {
      name: string;
      type: string;
    }[])
      if (m.type !== 'counter' && m.name.endsWith('_total'))
        this.registry.removeSingleMetric(m.name);
  }

  async render(): Promise<string> {
    const families = await this.sample();
    this.families = new Map(families.map((f) => [f.name, f]));
    for (const f of families) {
      if (this.registry.getSingleMetric(f.name)) continue;
      this.registry.registerMetric(asMetric(f.name, () => this.families.get(f.name)));
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Serves /metrics on `address`; a taken port is a HerdError naming it. */
  async listen(address: ListenAddress): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain' });
        res.end(path === '/metrics' ? 'GET only\n' : 'herd serves /metrics\n');
        return;
      }
      this.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new HerdError(
            `x-herd.metrics: cannot listen on ${address.host}:${address.port}: ${err.code ?? err.message}`,
            'PORT_UNAVAILABLE',
          ),
        ),
      );
      server.listen(address.port, address.host, () => resolve());
    });
    const bound = server.address();
    return typeof bound === 'object' && bound ? bound.port : address.port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
