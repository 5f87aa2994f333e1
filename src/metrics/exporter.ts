// GET /metrics in Prometheus' text format: herd's families from a fresh sample plus the daemon
// process's own metrics (prom-client's default collectors), on the address the file names.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import type { ListenAddress } from '../compose/listen-address.ts';
import { HerdError } from '../util/errors.ts';
import { HttpHosts } from '../util/http-host.ts';
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
  private unmount?: () => Promise<void>;

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

  /** Serves /metrics on `address`, on the server herd's other endpoints there share (`hosts`);
   * a taken port is a HerdError naming it. */
  async listen(address: ListenAddress, hosts = new HttpHosts()): Promise<void> {
    await this.close();
    this.unmount = await hosts.mount(address, {
      paths: ['/metrics'],
      request: (req, res) => this.serve(req, res),
      listenFailed: (err, sibling) =>
        new HerdError(
          `x-herd.metrics: cannot listen on ${address.host}:${address.port}: ${err.code ?? err.message}` +
            (sibling
              ? `; herd's dashboard listens on ${sibling.host}:${sibling.port}: give both the ` +
                'same address to share one server, or different ports'
              : ''),
          'PORT_UNAVAILABLE',
        ),
    });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' });
      res.end('GET only\n');
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
  }

  async close(): Promise<void> {
    const unmount = this.unmount;
    this.unmount = undefined;
    await unmount?.();
  }
}
