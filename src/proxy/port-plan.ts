// The listeners a project asks for (one per published port, per replica of a port range or an
// unpublished port, per `expose`), bound all or none, and how a planned one matches a bound one.
import type { Project, Service } from '../compose/model.ts';
import { routesOf } from '../compose/routes.ts';
import { checkScaleLimit } from '../compose/scale-limit.ts';
import { HerdError } from '../util/errors.ts';
import { modeFor } from './listener.ts';
import type { ListenMode } from './listener.ts';
import type { DataPlane, ListenerSpec } from './plane.ts';
import type { PortMapping } from './types.ts';

/** One listener of the data plane, and what it serves. */
export interface Entry {
  service: Service;
  target: number;
  kind: PortMapping['kind'];
  index?: number;
  spec: ListenerSpec;
  /** The port it got (its spec's port, or the one the system chose for port 0). */
  boundPort: number;
  /** Set by apply() for a port the new file no longer has: it still drains the replicas being
   * stopped, then closes once the engine has applied the file. */
  retiring?: boolean;
}

let nextId = 0;

/** A listener (not bound yet) for `target` of `service` on host:port. */
export function makeEntry(
  service: Service,
  target: number,
  kind: Entry['kind'],
  host: string,
  port: number,
  mode: ListenMode,
  index?: number,
): Entry {
  const spec: ListenerSpec = {
    id: `l${++nextId}`,
    service: service.name,
    host,
    port,
    mode,
    lb: service.herd.lb,
  };
  if (kind === 'ingress') spec.keepForwarded = true;
  const e: Entry = { service, target, kind, spec, boundPort: port };
  if (index !== undefined) e.index = index;
  return e;
}

/** Every listener the compose file asks for (nothing bound yet); `warn` hears of UDP ports,
 * which herd does not balance. */
export function planEntries(project: Project, warn: (message: string) => void): Entry[] {
  const out: Entry[] = [];
  for (const svc of Object.values(project.services)) {
    for (const p of svc.ports) {
      if (p.protocol === 'udp') {
        warn(
          `service "${svc.name}": UDP port ${p.published ? `${p.published.start}:` : ''}${p.target} is not load-balanced by herd; replicas must bind it themselves`,
        );
        continue;
      }
      const mode = modeFor(p.appProtocol);
      const hostIp = p.hostIp ?? '0.0.0.0';
      if (!p.published) {
        // Ephemeral host port per replica, like Compose's "5000" (on every interface unless
        // the file names one, as Compose binds it): bound for the current scale.
        for (let i = 1; i <= svc.scale; i++)
          out.push(makeEntry(svc, p.target, 'direct', hostIp, 0, mode, i));
        continue;
      }
      const { start, end } = p.published;
      if (start === end) {
        out.push(makeEntry(svc, p.target, 'balanced', hostIp, start, mode));
        continue;
      }
      checkScaleLimit(svc, svc.scale);
      for (let port = start; port <= end; port++)
        out.push(makeEntry(svc, p.target, 'direct', hostIp, port, mode, port - start + 1));
    }
    for (const x of svc.expose) {
      if (x.protocol === 'udp') {
        warn(`service "${svc.name}": UDP expose ${x.port} is not load-balanced by herd`);
        continue;
      }
      const balanced = (e: Entry): boolean =>
        e.service.name === svc.name && e.kind === 'balanced' && e.target === x.port;
      if (out.some(balanced)) continue;
      out.push(makeEntry(svc, x.port, 'internal', '127.0.0.1', 0, 'sniff'));
    }
  }
  if (project.herd.extra.ingress !== undefined) out.push(...ingressEntries(project));
  return out;
}

/** One loopback HTTP pool per routed service port, for the ingress (x-herd.ingress) only. */
function ingressEntries(project: Project): Entry[] {
  const out: Entry[] = [];
  for (const r of routesOf(project.services).routes) {
    const svc = project.services[r.service];
    if (!svc || out.some((e) => e.service.name === r.service && e.target === r.port)) continue;
    out.push(makeEntry(svc, r.port, 'ingress', '127.0.0.1', 0, 'http'));
  }
  return out;
}

/** Binds every entry, or none: on the first failure the ones bound are closed again. */
export async function bindAll(plane: DataPlane, planned: Entry[]): Promise<void> {
  const bound: Entry[] = [];
  for (const e of planned) {
    try {
      e.boundPort = await plane.open(e.spec);
      bound.push(e);
    } catch (err) {
      await Promise.all(bound.map((b) => plane.close(b.spec.id)));
      const o = e.spec;
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'EADDRINUSE'
          ? `port ${o.port} is already in use on ${o.host}; stop what uses it or change "ports" in the compose file`
          : code === 'EACCES'
            ? `no permission to bind ${o.host}:${o.port}; use a port above 1023 or run with the needed privilege`
            : `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`;
      throw new HerdError(`service "${e.service.name}": ${why}`, 'PORT_UNAVAILABLE');
    }
  }
}

/** Whether a planned listener is the same as one already bound: same service, port, mode and
 * balancing settings. */
export function sameListener(bound: Entry, planned: Entry): boolean {
  const a = bound.spec;
  const b = planned.spec;
  return (
    bound.service.name === planned.service.name &&
    bound.target === planned.target &&
    bound.kind === planned.kind &&
    bound.index === planned.index &&
    a.host === b.host &&
    a.port === b.port &&
    a.mode === b.mode &&
    JSON.stringify(a.lb) === JSON.stringify(b.lb)
  );
}
