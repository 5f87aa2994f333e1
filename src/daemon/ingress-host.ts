// Starts the ingress a project's `x-herd.ingress` asks for, in front of the balancer: each route
// reaches its service's pool through the listener herd keeps for the routed port. A re-applied file
// swaps the routes in; changed settings (addresses, TLS, certificate files' contents) reopen it.
import { ingressOf, type IngressSettings } from '../compose/ingress-settings.ts';
import type { Project } from '../compose/model.ts';
import { routesOf } from '../compose/routes.ts';
import { IngressServer } from '../proxy/ingress/front.ts';
import type { Proxy } from '../proxy/index.ts';

export interface Ingress {
  /** Takes a re-applied file: its routes, and its ingress settings when they changed. */
  apply(next: Project): Promise<void>;
  close(): Promise<void>;
}

/** The project's ingress (none running while the file has no `x-herd.ingress`). */
export async function openIngress(project: Project, proxy: Proxy): Promise<Ingress> {
  let settings = ingressOf(project.herd.extra, project.workingDir);
  let server = settings && (await start(settings, project, proxy));
  return {
    async apply(next) {
      const wanted = ingressOf(next.herd.extra, next.workingDir);
      if (JSON.stringify(wanted) === JSON.stringify(settings)) {
        server?.setRoutes(routesOf(next.services).routes);
        return;
      }
      // Closed first: the new settings may keep an address of the old ones.
      await server?.close();
      server = undefined;
      settings = undefined;
      if (!wanted) return;
      server = await start(wanted, next, proxy);
      settings = wanted;
    },
    close: async () => server?.close(),
  };
}

async function start(
  settings: IngressSettings,
  project: Project,
  proxy: Proxy,
): Promise<IngressServer> {
  const server = new IngressServer(settings, routesOf(project.services).routes, (service, port) =>
    poolAddress(proxy, service, port),
  );
  await server.listen();
  return server;
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
