// Host and path routes as an Ingress: herd's `x-herd.routes` ("api.example.com",
// "example.com/api"), nginx-proxy's VIRTUAL_HOST / VIRTUAL_PATH / VIRTUAL_PORT and Traefik's
// `traefik.http.routers.<name>.rule` labels (Host, PathPrefix, Path; && and ||).
import type { Service } from '../compose/model.ts';
import { at, objectMeta, rawPart, type K8sContext } from './context.ts';
import type { Manifest } from './k8s-types.ts';

export interface Route {
  host?: string;
  path: string;
  exact?: boolean;
}

export interface Routes {
  rules: Route[];
  /** The container port the routes go to, when the file names one. */
  targetPort?: number;
}

export function routesOf(ctx: K8sContext, service: Service): Routes {
  const out: Routes = { rules: [] };
  const routes = rawPart(ctx, service.name, 'x-herd')?.routes;
  if (Array.isArray(routes))
    routes.forEach((r, i) => {
      if (typeof r !== 'string')
        ctx.report.dropped(
          at(service.name, 'x-herd', 'routes', String(i)),
          'only "host/path" strings are converted',
        );
      else out.rules.push(hostPath(r));
    });
  const env = service.environment;
  if (env.VIRTUAL_HOST)
    for (const host of env.VIRTUAL_HOST.split(',')
      .map((h) => h.trim())
      .filter(Boolean))
      out.rules.push({ host, path: env.VIRTUAL_PATH || '/' });
  if (env.VIRTUAL_PORT && /^\d+$/.test(env.VIRTUAL_PORT)) out.targetPort = Number(env.VIRTUAL_PORT);
  if (service.labels['traefik.enable'] === 'false') return out;
  for (const [key, value] of Object.entries(service.labels)) {
    if (/^traefik\.http\.routers\.[^.]+\.rule$/.test(key))
      out.rules.push(...traefikRule(ctx, at(service.name, 'labels', key), value));
    if (
      /^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$/.test(key) &&
      /^\d+$/.test(value)
    )
      out.targetPort = Number(value);
  }
  return out;
}

/** "example.com/api" → host example.com, path /api; "/api" alone has no host. */
function hostPath(route: string): Route {
  const slash = route.indexOf('/');
  const host = slash < 0 ? route : route.slice(0, slash);
  const path = slash < 0 ? '/' : route.slice(slash);
  return host ? { host, path } : { path };
}

/** ``Host(`a`) && PathPrefix(`/p`) || Host(`b`)`` → its routes; other matchers are reported. */
function traefikRule(ctx: K8sContext, where: string, rule: string): Route[] {
  const out: Route[] = [];
  for (const alternative of rule.split('||')) {
    let hosts: string[] = [];
    let path: Route = { path: '/' };
    for (const matcher of alternative.split('&&')) {
      const m = /^\s*\(?\s*(\w+)\(([^)]*)\)\s*\)?\s*$/.exec(matcher);
      const args = m
        ? [...(m[2] as string).matchAll(/[`"']([^`"']*)[`"']/g)].map((a) => a[1] as string)
        : [];
      if (m?.[1] === 'Host' && args.length > 0) hosts = args;
      else if (m?.[1] === 'PathPrefix' && args[0]) path = { path: args[0] };
      else if (m?.[1] === 'Path' && args[0]) path = { path: args[0], exact: true };
      else ctx.report.dropped(where, `the matcher ${matcher.trim()} has no Ingress equivalent`);
    }
    if (hosts.length === 0) out.push(path);
    for (const host of hosts) out.push({ host, ...path });
  }
  return out;
}

export function ingressObject(
  ctx: K8sContext,
  service: Service,
  rules: Route[],
  port: number,
): Manifest {
  const name = ctx.names.of(service.name);
  const byHost = new Map<string | undefined, Route[]>();
  for (const r of rules) {
    const same = byHost.get(r.host) ?? [];
    if (!same.some((s) => s.path === r.path && s.exact === r.exact))
      byHost.set(r.host, [...same, r]);
  }
  return {
    object: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: objectMeta(ctx, name, service),
      spec: {
        rules: [...byHost].map(([host, routes]) => ({
          ...(host ? { host } : {}),
          http: {
            paths: routes.map((r) => ({
              path: r.path,
              pathType: r.exact ? 'Exact' : 'Prefix',
              backend: { service: { name, port: { number: port } } },
            })),
          },
        })),
      },
    },
    comment:
      "served by the cluster's default IngressClass; set spec.ingressClassName to choose one",
  };
}
