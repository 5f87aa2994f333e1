// Reads the ingress part of `x-herd` at load time: the top-level `ingress` and each service's
// `routes`, checked with compose/ingress-settings.ts and compose/routes.ts (problems at
// file:line:col), and makes every routed port reachable inside herd. Without an ingress,
// VIRTUAL_HOST and Traefik labels are left to whatever proxy the file runs.
import type { Checker } from './check.ts';
import { report } from './herd-ext.ts';
import { checkIngress } from './ingress-settings.ts';
import { plain } from './merge.ts';
import type { HerdProjectExtension, Service } from './model.ts';
import { checkRouteList, exposeRoutedPorts, routesOf } from './routes.ts';
import type { CNode } from './yaml-source.ts';

export function readIngress(
  herdNode: CNode | undefined,
  servicesNode: CNode | undefined,
  services: Record<string, Service>,
  herd: HerdProjectExtension,
  projectDir: string,
  c: Checker,
): void {
  const ingress = herdNode?.kind === 'map' ? herdNode.entries.get('ingress')?.value : undefined;
  if (ingress) {
    report(ingress, 'x-herd.ingress', checkIngress(plain(ingress), projectDir).problems, c);
    herd.extra.ingress = plain(ingress);
  }
  const serviceNode = (name: string) =>
    servicesNode?.kind === 'map' ? servicesNode.entries.get(name)?.value : undefined;
  for (const svc of Object.values(services)) {
    const node = serviceNode(svc.name);
    const ext = node?.kind === 'map' ? node.entries.get('x-herd')?.value : undefined;
    const routes = ext?.kind === 'map' ? ext.entries.get('routes')?.value : undefined;
    if (!routes) continue;
    const path = `services.${svc.name}.x-herd.routes`;
    report(routes, path, checkRouteList(plain(routes)).problems, c);
    svc.herd.extra.routes = plain(routes);
  }
  const found = routesOf(services);
  for (const w of found.warnings) c.diag.warn(w);
  if (!ingress) {
    // VIRTUAL_HOST and Traefik labels may be for an nginx-proxy or Traefik the file runs itself;
    // herd's own routes are for herd's ingress only.
    for (const svc of Object.values(services))
      if (svc.herd.extra.routes !== undefined)
        c.diag.warn(
          `service "${svc.name}" has x-herd.routes but the file has no \`x-herd.ingress\`, so ` +
            'nothing routes to it; add `x-herd: { ingress: { http: "127.0.0.1:80" } }`',
        );
    return;
  }
  for (const p of found.problems)
    c.diag.error(serviceNode(p.service)?.pos, `services.${p.service}`, p.message);
  exposeRoutedPorts(services, found.routes);
}
