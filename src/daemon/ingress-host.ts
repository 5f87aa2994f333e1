// Starts the ingress a project's `x-herd.ingress` asks for, in front of the balancer: each route
// reaches its service's pool through the listener herd keeps for the routed port.
import { ingressOf } from '../compose/ingress-settings.ts';
import type { Project } from '../compose/model.ts';
import { routesOf } from '../compose/routes.ts';
import { IngressServer } from '../proxy/ingress/front.ts';
import type { Proxy } from '../proxy/index.ts';

export interface Ingress {
  /** Takes the routes of a re-applied file. */
  apply(next: Project): void;
  close(): Promise<void>;
}

/** The running ingress, or undefined when the project has none. */
export async function openIngress(project: Project, proxy: Proxy): Promise<Ingress | undefined> {
  const settings = ingressOf(project.herd.extra, project.workingDir);
  if (!settings) return undefined;
  const server = new IngressServer(settings, routesOf(project.services).routes, (service, port) =>
    poolAddress(proxy, service, port),
  );
  await server.listen();
  return {
    apply: (next) => server.setRoutes(routesOf(next.services).routes),
    close: () => server.close(),
  };
}

/** Where the balancer serves `service`'s `port` for every replica (not a per-replica port). */
function poolAddress(
  proxy: Proxy,
  service: string,
  port: number,
): { host: string; port: number } | undefined {
  const m = proxy
    .ports()
    .find((p) => p.service === service && p.target === port && p.kind === 'ingress');
  if (!m) return undefined;
  const wildcard = m.hostIp === '0.0.0.0' || m.hostIp === '::' || m.hostIp === '';
  return { host: wildcard ? '127.0.0.1' : m.hostIp, port: m.hostPort };
}
