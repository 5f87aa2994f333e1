// The load balancer in front of the engine: bound before any replica starts, so a taken port
// is an error before anything runs.
import type { Project } from '../../compose/model.ts';
import { createProxy, type Proxy } from '../../proxy/index.ts';

export async function openFrontDoor(project: Project): Promise<Proxy> {
  const proxy = createProxy(project);
  await proxy.listen();
  return proxy;
}
