// The ingress a project's `x-herd.ingress` asks for, handed to the proxy: it is served where the
// ports are (a proxy process group's ingress process, which answers while the daemon is dead or
// busy), each route reaching its service's pool through the listener herd keeps for the routed
// port. A re-applied file swaps the routes in; changed settings (addresses, TLS, certificate
// files' contents) reopen it.
import { ingressOf } from '../compose/ingress-settings.ts';
import type { Project } from '../compose/model.ts';
import { routesOf } from '../compose/routes.ts';
import type { IngressPlan, Proxy } from '../proxy/index.ts';

export interface Ingress {
  /** Takes a re-applied file (after the proxy applied it): its routes, and its ingress settings
   * when they changed. */
  apply(next: Project): Promise<void>;
  close(): Promise<void>;
}

/** The project's ingress (none served while the file has no `x-herd.ingress`; a proxy that
 * still serves one from before, for a daemon that came back, stops). */
export async function openIngress(project: Project, proxy: Proxy): Promise<Ingress> {
  await proxy.ingress(planOf(project));
  return {
    apply: (next) => proxy.ingress(planOf(next)),
    close: () => proxy.ingress(null),
  };
}

function planOf(project: Project): IngressPlan | null {
  const settings = ingressOf(project.herd.extra, project.workingDir);
  return settings ? { settings, routes: routesOf(project.services).routes } : null;
}
