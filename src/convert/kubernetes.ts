// Project → Kubernetes manifests. Each service is planned first (how it runs, its Service ports,
// its routes, its autoscaling), because a dependant's initContainer needs its dependency's port;
// then each becomes its workload, Service, HPA and Ingress, plus the ConfigMaps, Secrets and claims
// its pod reads (each written once, however many services share it).
import { parseAutoscale, type Autoscale } from '../compose/autoscale.ts';
import type { Service } from '../compose/model.ts';
import { runtimeKind } from '../compose/runtime-kind.ts';
import { at, rawPart, type ConvertSource, type K8sContext, type K8sOptions } from './context.ts';
import type { WaitTarget } from './depends.ts';
import { deploymentObject } from './deployment.ts';
import { hpaObject } from './hpa.ts';
import { ingressObject, routesOf, type Routes } from './ingress.ts';
import { isOneShot, jobObject } from './job.ts';
import type { Manifest } from './k8s-types.ts';
import { ServiceNames } from './names.ts';
import { podTemplate } from './pod.ts';
import { noteSharedClaims } from './pvc.ts';
import { containerPorts, serviceObject, servicePorts, type ServicePorts } from './service.ts';
import { reportUnmapped, reportUnmappedProject } from './unmapped.ts';

interface Plan {
  service: Service;
  workload: 'Deployment' | 'DaemonSet' | 'Job';
  ports: ServicePorts;
  routes: Routes;
  /** The container port the routes reach. */
  routePort?: number;
  autoscale?: Autoscale;
}

/** The default port of a routed service that names none, as nginx-proxy assumes. */
const DEFAULT_ROUTE_PORT = 80;

export function toKubernetes(src: ConvertSource, options: K8sOptions): Manifest[] {
  const names = new ServiceNames(Object.keys(src.project.services), src.report);
  const ctx: K8sContext = { ...src, options, names };
  reportUnmappedProject(ctx);
  const plans: Plan[] = [];
  for (const service of Object.values(ctx.project.services)) {
    const plan = planService(ctx, service);
    if (plan) plans.push(plan);
  }
  const targets = new Map<string, WaitTarget>(
    plans.map((p) => [p.service.name, { workload: p.workload, port: p.ports.ports[0]?.port }]),
  );
  const out: Manifest[] = [];
  const claimUsers = new Map<string, { services: string[]; pods: number }>();
  for (const plan of plans) {
    for (const m of serviceManifests(ctx, plan, targets)) {
      if (m.object.kind === 'PersistentVolumeClaim') {
        const use = claimUsers.get(m.object.metadata.name) ?? { services: [], pods: 0 };
        use.services.push(plan.service.name);
        use.pods += plan.autoscale ? plan.autoscale.max : plan.service.scale;
        claimUsers.set(m.object.metadata.name, use);
      }
      const dup = out.some(
        (o) => o.object.kind === m.object.kind && o.object.metadata.name === m.object.metadata.name,
      );
      if (!dup) out.push(m);
    }
  }
  noteSharedClaims(ctx, claimUsers);
  return out;
}

function planService(ctx: K8sContext, service: Service): Plan | undefined {
  if (
    runtimeKind(service) === 'process' &&
    service.image === undefined &&
    service.build === undefined
  ) {
    ctx.report.dropped(
      at(service.name),
      'runs as a local process (no image): give it an image: (or build:) to run it on a cluster',
    );
    return undefined;
  }
  const oneShot = isOneShot(ctx, service);
  const workload = oneShot
    ? 'Job'
    : rawPart(ctx, service.name, 'deploy')?.mode === 'global'
      ? 'DaemonSet'
      : 'Deployment';
  const routes = routesOf(ctx, service);
  const first = service.ports[0]?.target ?? service.expose[0]?.port;
  const routePort =
    routes.rules.length > 0 ? (routes.targetPort ?? first ?? DEFAULT_ROUTE_PORT) : undefined;
  return {
    service,
    workload,
    ports: servicePorts(ctx, service, routePort === undefined ? [] : [routePort]),
    routes,
    routePort,
    autoscale: parseAutoscale(service.name, rawPart(ctx, service.name, 'x-herd')?.autoscale),
  };
}

function serviceManifests(
  ctx: K8sContext,
  plan: Plan,
  targets: Map<string, WaitTarget>,
): Manifest[] {
  const { service, workload } = plan;
  const pod = podTemplate(ctx, service, containerPorts(plan.ports.ports), targets);
  const out: Manifest[] = [...pod.manifests];
  const autoscaled = plan.autoscale !== undefined && workload === 'Deployment';
  if (workload === 'Job') {
    out.push(jobObject(ctx, service, pod.template));
    if (plan.autoscale)
      ctx.report.dropped(
        at(service.name, 'x-herd', 'autoscale'),
        'a Job runs to completion: nothing to autoscale',
      );
    if (plan.routes.rules.length > 0)
      ctx.report.dropped(at(service.name), 'routes to a Job: it has no Service');
  } else {
    out.push(deploymentObject(ctx, service, pod.template, autoscaled));
    out.push(serviceObject(ctx, service, plan.ports));
    if (autoscaled) out.push(hpaObject(ctx, service, plan.autoscale as Autoscale));
    const port = plan.ports.ports.find((p) => p.targetPort === plan.routePort)?.port;
    if (port !== undefined) out.push(ingressObject(ctx, service, plan.routes.rules, port));
  }
  reportUnmapped(ctx, service, workload);
  return out;
}
