// What `x-herd.autoscale` needs from the rest of its service, checked once the whole file is read
// (env files, and the exposes routes add, included). A `memory` target is a % of the memory
// limit; `rps` and scale to zero (`idle`) count requests through herd's balancer, which only
// serves a service with a TCP port (`ports`, `expose`, or a route of x-herd.ingress). Without
// those the target reads nothing forever: the service never scales on it and, scaled to zero,
// never wakes. So each is a load error at its key, as a Kubernetes HPA refuses a Utilization
// target for pods without a request.
import { checkAutoscale } from './autoscale.ts';
import type { Checker } from './check.ts';
import { report } from './herd-ext.ts';
import type { SettingProblem } from './herd-settings.ts';
import type { Service } from './model.ts';
import type { CNode } from './yaml-source.ts';

export function checkAutoscaleNeeds(
  servicesNode: CNode | undefined,
  services: Record<string, Service>,
  c: Checker,
): void {
  for (const svc of Object.values(services)) {
    const raw = svc.herd.extra.autoscale;
    if (raw === undefined) continue;
    // A file whose autoscale is wrong in itself has its errors already.
    const a = checkAutoscale(raw).value;
    if (!a) continue;
    const problems: SettingProblem[] = [];
    if (a.memory !== undefined && svc.resources.limits.memoryBytes === undefined)
      problems.push({
        key: 'memory',
        message:
          `is a % of the memory limit, and service "${svc.name}" has none: set ` +
          'deploy.resources.limits.memory (or mem_limit), or scale on cpu, rps or redis_list',
      });
    if (!balanced(svc)) {
      const none = `service "${svc.name}" has no TCP port herd balances (ports, expose or an x-herd.routes route)`;
      if (a.rps !== undefined)
        problems.push({
          key: 'rps',
          message: `counts requests through herd's balancer, and ${none}, so it would read 0: add one, or scale on cpu, memory or redis_list`,
        });
      if (a.idleMs !== undefined)
        problems.push({
          key: 'idle',
          message: `scale to zero wakes on a request through herd's balancer, and ${none}, so it would never wake: add one, or set min: 1`,
        });
    }
    const node = autoscaleNode(servicesNode, svc.name);
    if (node && problems.length > 0)
      report(node, `services.${svc.name}.x-herd.autoscale`, problems, c);
  }
}

/** Whether herd's balancer has a pool for the service (UDP is not balanced). */
function balanced(svc: Service): boolean {
  return (
    svc.ports.some((p) => p.protocol !== 'udp') || svc.expose.some((x) => x.protocol !== 'udp')
  );
}

function autoscaleNode(servicesNode: CNode | undefined, name: string): CNode | undefined {
  const svc = servicesNode?.kind === 'map' ? servicesNode.entries.get(name)?.value : undefined;
  const herd = svc?.kind === 'map' ? svc.entries.get('x-herd')?.value : undefined;
  return herd?.kind === 'map' ? herd.entries.get('autoscale')?.value : undefined;
}
