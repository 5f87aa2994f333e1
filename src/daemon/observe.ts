// The daemon's eyes on its stack: the metrics sampler, the autoscaler that samples through it
// every second, and `/metrics` when the file asks for it. Stack calls observe() once the engine and the
// balancer exist, and close() when it closes.
import { join } from 'node:path';
import type { Project } from '../compose/model.ts';
import { metricsListen } from '../compose/metrics-settings.ts';
import type { Engine } from '../engine/engine.ts';
import type { ReplicaInfo } from '../engine/events.ts';
import { MetricsExporter } from '../metrics/exporter.ts';
import { MonotonicStore } from '../metrics/monotonic.ts';
import { MetricsSampler, type ReplicaUsage } from '../metrics/sampler.ts';
import { readQueues } from '../metrics/queues.ts';
import { proxyTraffic } from '../metrics/traffic-source.ts';
import type { Proxy } from '../proxy/index.ts';
import type { HttpHosts } from '../util/http-host.ts';
import { readStat } from '../util/process-identity.ts';
import { groupStats, TICKS_PER_SECOND } from './proc-stats.ts';
import { describeWriteError, type DaemonWarnings } from './warnings.ts';

const SAVE_WARNING = 'metrics-file';

export interface Observer {
  /** Takes a re-applied file: a changed `x-herd.metrics` address moves /metrics there, an added
   * one opens it, a removed one closes it (the counters carry on either way). */
  apply(next: Project): Promise<void>;
  /** `forget`: the stack is going away (`herd down`): its counters' bases go too. */
  close(forget: boolean): Promise<void>;
}

export async function observe(
  project: Project,
  engine: Engine,
  proxy: Proxy,
  stateDir: string,
  warnings: DaemonWarnings,
  hosts: HttpHosts,
): Promise<Observer> {
  const file = join(stateDir, 'metrics.json');
  const store = new MonotonicStore(file);
  const sampler = new MetricsSampler(
    {
      traffic: proxyTraffic(proxy),
      engine,
      usage: replicaUsage,
      autoscaled: () => Object.fromEntries(engine.autoscaling().map((s) => [s.service, s.desired])),
    },
    store,
    (err) => {
      if (err === undefined)
        warnings.clear(SAVE_WARNING, `the metrics file ${file} is written again`);
      else
        warnings.set(
          SAVE_WARNING,
          `cannot write the metrics file: ${describeWriteError(err, file)}; counters go on from ` +
            'memory and are saved once it can be written',
        );
    },
  );
  const exporter = new MetricsExporter(() => sampler.sample());
  let listen = metricsListen(project.herd.extra);
  if (listen) await exporter.listen(listen, hosts);
  // The autoscaler's loop takes a sample every second, for itself and for the counters' bases
  // (so a restart between two scrapes loses nothing); a scrape takes one of its own.
  // Queue lengths are read alongside, for the `redis_list` targets only.
  engine.startAutoscaler(async () => {
    const [, queues] = await Promise.all([
      sampler.sample(),
      readQueues(engine.project, () => proxy.serviceAddresses()),
    ]);
    const load = sampler.load();
    return load && { ...load, queues };
  });
  return {
    async apply(next) {
      const wanted = metricsListen(next.herd.extra);
      if (JSON.stringify(wanted) === JSON.stringify(listen)) return;
      await exporter.close();
      listen = undefined;
      if (!wanted) return;
      await exporter.listen(wanted, hosts);
      listen = wanted;
    },
    async close(forget) {
      sampler.close();
      await exporter.close();
      if (forget) store.remove();
    },
  };
}

/** CPU time and resident memory of each live replica's process group. */
function replicaUsage(replicas: ReplicaInfo[]): Map<string, ReplicaUsage> {
  const pgids = new Map<string, number>();
  for (const r of replicas) {
    if (r.pid === undefined || r.state === 'exited' || r.state === 'removed') continue;
    const pgid = readStat(r.pid)?.pgid;
    if (pgid !== undefined) pgids.set(r.name, pgid);
  }
  const groups = groupStats([...new Set(pgids.values())]);
  const out = new Map<string, ReplicaUsage>();
  for (const [name, pgid] of pgids) {
    const g = groups.get(pgid);
    if (g) out.set(name, { cpuSeconds: g.cpuTicks / TICKS_PER_SECOND, memoryBytes: g.rssBytes });
  }
  return out;
}
