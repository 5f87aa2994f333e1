// The read-only routes: `ps`, `top` and `port` answer from the engine's replicas, the process
// table and the balancer's counters.
import type { ReplicaInfo } from '../../engine/events.ts';
import type {
  PortResponse,
  PsReplica,
  PsResponse,
  ReplicaTraffic,
  TopReplica,
  TopResponse,
} from '../api-types.ts';
import { readStat } from '../../util/process-identity.ts';
import { downUntil } from '../outage.ts';
import { lookupPort } from '../port-lookup.ts';
import { groupProcesses, UsageSampler } from '../proc-stats.ts';
import type { ApiContext } from './context.ts';
import { ApiError, parseNonNegative } from './http.ts';

export class StatusRoutes {
  private readonly sampler = new UsageSampler();
  /** Its own sampler, so `herd top` refreshing every N seconds measures CPU over those N seconds
   * whatever `ps` calls come in between. */
  private readonly topSampler = new UsageSampler();

  constructor(private readonly ctx: ApiContext) {}

  async ps(): Promise<PsResponse> {
    const { project, opts } = this.ctx;
    const replicas = this.ctx.engine.replicas();
    const pgids = processGroups(replicas);
    const usage = await this.sampler.sample([...new Set(pgids.values())]);
    const stopped = new Set(opts.recorder?.current.stopped ?? []);
    const scale = opts.recorder?.current.scale ?? {};
    const traffic = (await opts.traffic?.()) ?? new Map<string, ReplicaTraffic>();
    const warnings = opts.warnings?.list() ?? [];
    return {
      project: project.name,
      now: Date.now(),
      autoscaling: this.ctx.engine.autoscaling?.() ?? [],
      services: Object.values(project.services).map((s) => ({
        name: s.name,
        ports: s.ports,
        expose: s.expose,
        scale: scale[s.name] ?? s.scale,
        stopped: stopped.has(s.name),
        ...withDownUntil(replicas, s.name),
      })),
      replicas: replicas.map((r): PsReplica => {
        const u = pgids.has(r.name) ? usage.get(pgids.get(r.name)!) : undefined;
        const t = traffic.get(r.name);
        return {
          ...r,
          ...(u ? { cpuPercent: u.cpuPercent, memBytes: u.rssBytes } : {}),
          ...(t ? { traffic: t } : {}),
        };
      }),
      ...(warnings.length > 0 ? { warnings } : {}),
      updates: this.ctx.engine.updates?.() ?? [],
    };
  }

  port(url: URL): PortResponse {
    const p = url.searchParams;
    const [service] = this.ctx.services([p.get('service') ?? '']) ?? [];
    const port = parseNonNegative(p.get('port'), 'port');
    const index = p.get('index') ? parseNonNegative(p.get('index'), 'index') : 1;
    const protocol = p.get('protocol') === 'udp' ? 'udp' : 'tcp';
    const replicas = this.ctx.engine.replicas().filter((r) => r.service === service);
    const definition = this.ctx.project.services[service!]!;
    const address = lookupPort(definition, replicas, port, protocol, index);
    if (!address)
      throw new ApiError(
        404,
        `no host port for ${service} ${port}/${protocol} (replica ${index})`,
        'NO_HOST_PORT',
      );
    return { address };
  }

  /** Each live replica's processes, with the CPU % and memory of its whole process group (for a
   * Docker container, the group of its init process as this host sees it). */
  async top(): Promise<TopResponse> {
    const live = this.ctx.engine
      .replicas()
      .filter((r) => r.pid !== undefined && r.state !== 'exited' && r.state !== 'removed');
    const pgids = processGroups(live);
    const usage = await this.topSampler.sample([...new Set(pgids.values())]);
    return {
      replicas: live.map((r): TopReplica => {
        const pgid = pgids.get(r.name);
        const u = pgid === undefined ? undefined : usage.get(pgid);
        return {
          name: r.name,
          service: r.service,
          pid: r.pid,
          ...(u ? { cpuPercent: u.cpuPercent, memBytes: u.rssBytes } : {}),
          processes: pgid === undefined ? [] : groupProcesses(pgid),
        };
      }),
    };
  }
}

function withDownUntil(replicas: ReplicaInfo[], service: string): { downUntil?: number } {
  const until = downUntil(replicas, service);
  return until !== undefined && Number.isFinite(until) ? { downUntil: until } : {};
}

/** Replica name → the process group its PID leads (replicas without a live PID are left out). */
function processGroups(replicas: ReplicaInfo[]): Map<string, number> {
  const pgids = new Map<string, number>();
  for (const r of replicas) {
    if (r.pid === undefined) continue;
    const pgid = readStat(r.pid)?.pgid;
    if (pgid !== undefined) pgids.set(r.name, pgid);
  }
  return pgids;
}
