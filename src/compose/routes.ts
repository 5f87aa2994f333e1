// Which requests of the ingress go to which service: herd's own `x-herd.routes`, nginx-proxy's
// VIRTUAL_HOST/VIRTUAL_PATH/VIRTUAL_PORT environment and Traefik's router rule labels, read into one
// list. One home for these rules: the loader runs them (problems at the service, at load time) and
// the daemon runs them again on the loaded project to build the ingress's table.
import type { Service } from './model.ts';
import { show, type SettingProblem } from './herd-settings.ts';
import { parseHostPath, portOf, type Route, type RouteSpec } from './route-spec.ts';
import { traefikRoutes } from './traefik-rule.ts';

export type { Route, RouteSpec } from './route-spec.ts';

export const ROUTE_KEYS = ['host', 'path', 'strip_prefix', 'port'];
/** nginx-proxy's default port when a container exposes several or none. */
const DEFAULT_PORT = 80;

/** Checks a service's raw `x-herd.routes`: "host", "host/path" or {host, path, strip_prefix, port}. */
export function checkRouteList(raw: unknown): { value: RouteSpec[]; problems: SettingProblem[] } {
  const out = { value: [] as RouteSpec[], problems: [] as SettingProblem[] };
  if (raw === undefined || raw === null) return out;
  if (!Array.isArray(raw)) {
    out.problems.push({
      message: `expected a list such as ["api.example.com", "example.com/api"], got ${show(raw)}`,
    });
    return out;
  }
  raw.forEach((item, i) => {
    const r = routeItem(item);
    if (typeof r === 'string') out.problems.push({ key: String(i), message: r });
    else out.value.push(r);
  });
  return out;
}

function routeItem(item: unknown): RouteSpec | string {
  const source = 'x-herd.routes';
  if (typeof item === 'string') return parseHostPath(item, source, false);
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    return `expected "host[/path]" or a mapping with ${ROUTE_KEYS.join(', ')}, got ${show(item)}`;
  const m = item as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !ROUTE_KEYS.includes(k));
  if (unknown.length) return `unknown key ${unknown.join(', ')} (known: ${ROUTE_KEYS.join(', ')})`;
  if (m.host !== undefined && typeof m.host !== 'string')
    return `host: expected a name, got ${show(m.host)}`;
  if (m.path !== undefined && (typeof m.path !== 'string' || !m.path.startsWith('/')))
    return `path: expected a prefix starting with /, got ${show(m.path)}`;
  if (m.strip_prefix !== undefined && typeof m.strip_prefix !== 'boolean')
    return `strip_prefix: expected true or false, got ${show(m.strip_prefix)}`;
  const port = m.port === undefined ? undefined : portOf(m.port);
  if (port === null) return `port: expected a port number, got ${show(m.port)}`;
  const spec = parseHostPath(`${m.host ?? ''}${m.path ?? ''}`, source, m.strip_prefix === true);
  if (typeof spec === 'string') return spec;
  if (port !== undefined) spec.port = port;
  return spec;
}

/** nginx-proxy: VIRTUAL_HOST (comma-separated), VIRTUAL_PATH, VIRTUAL_PORT. */
function virtualHostRoutes(svc: Service): { specs: RouteSpec[]; problems: string[] } {
  const env = svc.environment;
  const out = { specs: [] as RouteSpec[], problems: [] as string[] };
  if (!env.VIRTUAL_HOST) return out;
  const port = env.VIRTUAL_PORT === undefined ? undefined : portOf(env.VIRTUAL_PORT);
  if (port === null) out.problems.push(`VIRTUAL_PORT=${env.VIRTUAL_PORT} is not a port number`);
  const path = env.VIRTUAL_PATH ?? '';
  for (const host of env.VIRTUAL_HOST.split(',')
    .map((h) => h.trim())
    .filter(Boolean)) {
    const spec = parseHostPath(`${host}${path}`, 'VIRTUAL_HOST', false);
    if (typeof spec === 'string') out.problems.push(`VIRTUAL_HOST: ${spec}`);
    else out.specs.push(port ? { ...spec, port } : spec);
  }
  return out;
}

export interface RoutesOf {
  routes: Route[];
  /** Per service: what is wrong with its routes. */
  problems: { service: string; message: string }[];
  warnings: string[];
}

/** Every route of the services, with its port; two services claiming one host and path is a
 * problem of the second. */
export function routesOf(services: Record<string, Service>): RoutesOf {
  const out: RoutesOf = { routes: [], problems: [], warnings: [] };
  const claimed = new Map<string, string>();
  for (const svc of Object.values(services)) {
    const own = checkRouteList(svc.herd.extra.routes);
    const vhost = virtualHostRoutes(svc);
    const traefik = traefikRoutes(svc.labels);
    // x-herd.routes items are reported where they are written (the loader); bad ones are skipped.
    for (const p of [...vhost.problems, ...traefik.problems])
      out.problems.push({ service: svc.name, message: p });
    for (const w of traefik.warnings) out.warnings.push(`service "${svc.name}": ${w}`);
    for (const spec of [...own.value, ...vhost.specs, ...traefik.specs]) {
      const key = `${spec.host ?? '*'}${spec.path}`;
      const other = claimed.get(key);
      if (other !== undefined && other !== svc.name) {
        out.problems.push({
          service: svc.name,
          message: `route ${key} (${spec.source}) is already claimed by service "${other}"; a host and path can lead to one service only`,
        });
        continue;
      }
      if (other === svc.name) continue;
      claimed.set(key, svc.name);
      out.routes.push({ ...spec, service: svc.name, port: spec.port ?? defaultPort(svc) });
    }
  }
  return out;
}

/** The port a route of `svc` reaches when it names none: the one port the service declares, else
 * 80 (nginx-proxy's rule; a process replica listens on $PORT whatever the number). */
function defaultPort(svc: Service): number {
  const targets = new Set([...svc.ports.map((p) => p.target), ...svc.expose.map((x) => x.port)]);
  return targets.size === 1 ? [...targets][0]! : DEFAULT_PORT;
}

/** Makes each routed port reachable inside herd (an `expose`), so the balancer keeps a pool for
 * it: routes use the same pools, health, retries and drain as published ports. */
export function exposeRoutedPorts(services: Record<string, Service>, routes: Route[]): void {
  for (const r of routes) {
    const svc = services[r.service];
    if (!svc) continue;
    const declared =
      // A single published port has a balanced pool already; a range is one port per replica.
      svc.ports.some(
        (p) =>
          p.target === r.port &&
          p.protocol === 'tcp' &&
          p.published !== undefined &&
          p.published.start === p.published.end,
      ) || svc.expose.some((x) => x.port === r.port && x.protocol === 'tcp');
    if (!declared) svc.expose.push({ port: r.port, protocol: 'tcp' });
  }
}
