// `herd ps` output: a table (default), Compose-style JSON lines, or names only.
import type { PsReplica, PsResponse, ServiceSummary } from '../../daemon/api-types.ts';
import { formatPorts } from './ports.ts';
import { composeState, formatStatus, isShownByDefault } from './status.ts';
import { renderTable } from './table.ts';
import { formatBytes, formatPercent } from './units.ts';

export interface PsFilter {
  all: boolean;
  services: string[];
}

export function selectReplicas(ps: PsResponse, f: PsFilter): PsReplica[] {
  return ps.replicas.filter(
    (r) =>
      (f.all || isShownByDefault(r.state)) &&
      (f.services.length === 0 || f.services.includes(r.service)),
  );
}

function serviceOf(ps: PsResponse, name: string): ServiceSummary {
  return (
    ps.services.find((s) => s.name === name) ?? {
      name,
      ports: [],
      expose: [],
      scale: 0,
      stopped: false,
    }
  );
}

/** Where the balancer sends this replica's traffic: its own address (its PORT, else the first
 * port it maps), or null while it has none. */
export function replicaEndpoint(r: PsReplica): string | null {
  const port = r.port ?? Object.values(r.ports)[0];
  return port === undefined ? null : `${r.host}:${port}`;
}

export function psTable(ps: PsResponse, replicas: PsReplica[], endpoints = false): string {
  const head = ['NAME', 'SERVICE', 'STATUS', 'RESTARTS', 'PORTS', 'PID', 'CPU %', 'MEM'];
  if (endpoints) head.push('ENDPOINT');
  return renderTable(
    head,
    replicas.map((r) => [
      r.name,
      r.service,
      formatStatus(r, ps.now),
      String(r.restarts),
      formatPorts(serviceOf(ps, r.service), r),
      r.pid !== undefined && isShownByDefault(r.state) ? String(r.pid) : '',
      r.cpuPercent !== undefined ? formatPercent(r.cpuPercent) : '',
      r.memBytes !== undefined ? formatBytes(r.memBytes) : '',
      ...(endpoints ? [isShownByDefault(r.state) ? (replicaEndpoint(r) ?? '') : ''] : []),
    ]),
  );
}

/** One JSON object per line, with Compose's field names plus herd's extras. */
export function psJson(ps: PsResponse, replicas: PsReplica[]): string {
  return replicas
    .map(
      (r) =>
        JSON.stringify({
          Name: r.name,
          Project: ps.project,
          Service: r.service,
          Index: r.index,
          State: composeState(r),
          Status: formatStatus(r, ps.now),
          Health: r.health === 'none' ? '' : r.health,
          Ready: r.ready === true,
          ExitCode: r.lastExit?.exitCode ?? 0,
          // Docker's State.OOMKilled: the kernel killed it at its memory limit.
          OOMKilled: r.lastExit?.oomKilled === true,
          Ports: formatPorts(serviceOf(ps, r.service), r),
          Endpoint: replicaEndpoint(r),
          Restarts: r.restarts,
          Pid: r.pid ?? null,
          CpuPercent: r.cpuPercent ?? null,
          MemBytes: r.memBytes ?? null,
          Requests: r.traffic?.requests ?? null,
          Errors: r.traffic?.errors ?? null,
          Reason: r.reason ?? '',
          Update: ps.updates?.find((u) => u.service === r.service)?.state ?? '',
          // Docker's `State.Health.Log` shape, for debugging a failing healthcheck.
          HealthLog: (r.healthLog ?? []).map((p) => ({
            Start: new Date(p.start).toISOString(),
            End: new Date(p.end).toISOString(),
            ExitCode: p.exitCode,
            Output: p.output,
          })),
        }) + '\n',
    )
    .join('');
}
