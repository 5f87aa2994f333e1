// Each long-running service gets a Service named as the Compose service, so the DNS name other
// services use keeps working. `ports: ["8080:5000"]` is port 8080 → targetPort 5000 (LoadBalancer
// or ClusterIP, as the flag says), `expose` a ClusterIP port; a service with neither gets a headless
// Service: its name resolves to the ready pods on every port, as in Compose.
import type { Service } from '../compose/model.ts';
import { at, objectMeta, rawPart, selectorLabels, type K8sContext } from './context.ts';
import type { ContainerPort, Manifest } from './k8s-types.ts';
import { isDnsLabel } from './names.ts';

export interface ServicePort {
  name?: string;
  port: number;
  targetPort: number;
  protocol?: 'UDP';
  appProtocol?: string;
}

export interface ServicePorts {
  ports: ServicePort[];
  /** Some port is published on the host in Compose: the Service type flag applies. */
  published: boolean;
}

/** The Service ports of a service; `extra` are container ports something else routes to. */
export function servicePorts(
  ctx: K8sContext,
  service: Service,
  extra: number[] = [],
): ServicePorts {
  const out: ServicePorts = { ports: [], published: false };
  const add = (p: ServicePort, where: string) => {
    const same = out.ports.find((q) => q.port === p.port && q.protocol === p.protocol);
    if (!same) out.ports.push(p);
    else if (same.targetPort !== p.targetPort)
      ctx.report.dropped(
        where,
        `port ${p.port} already goes to ${same.targetPort} (one Service port, one target)`,
      );
  };
  service.ports.forEach((p, i) => {
    const where = at(service.name, 'ports', String(i));
    if (p.published) out.published = true;
    if (p.published && p.published.end > p.published.start)
      ctx.report.note(
        where,
        `host ports ${p.published.start}-${p.published.end} (one per replica) → Service port ${p.published.start}, balanced over every replica`,
      );
    if (p.hostIp !== undefined)
      ctx.report.dropped(
        `${where}.host_ip`,
        `a Service is not bound to one address (${p.hostIp}); restrict it with a NetworkPolicy or loadBalancerSourceRanges`,
      );
    const sp: ServicePort = { port: p.published?.start ?? p.target, targetPort: p.target };
    if (p.protocol === 'udp') sp.protocol = 'UDP';
    if (p.appProtocol) sp.appProtocol = p.appProtocol;
    if (p.name && isDnsLabel(p.name)) sp.name = p.name;
    add(sp, where);
  });
  service.expose.forEach((e, i) => {
    add(
      {
        port: e.port,
        targetPort: e.port,
        ...(e.protocol === 'udp' ? { protocol: 'UDP' as const } : {}),
      },
      at(service.name, 'expose', String(i)),
    );
  });
  for (const port of extra)
    if (!out.ports.some((p) => p.targetPort === port))
      add({ port, targetPort: port }, at(service.name));
  // Several ports must be named; a port a user named keeps its name.
  if (out.ports.length > 1)
    for (const p of out.ports) p.name ??= `${(p.protocol ?? 'TCP').toLowerCase()}-${p.port}`;
  return out;
}

/** The container ports behind the Service ports, each once. */
export function containerPorts(ports: ServicePort[]): ContainerPort[] {
  const out: ContainerPort[] = [];
  for (const p of ports)
    if (!out.some((c) => c.containerPort === p.targetPort && c.protocol === p.protocol))
      out.push({ containerPort: p.targetPort, ...(p.protocol ? { protocol: p.protocol } : {}) });
  return out;
}

export function serviceObject(ctx: K8sContext, service: Service, sp: ServicePorts): Manifest {
  const name = ctx.names.of(service.name);
  const dnsrr = rawPart(ctx, service.name, 'deploy')?.endpoint_mode === 'dnsrr';
  const headless = sp.ports.length === 0 || dnsrr;
  const spec: Record<string, unknown> = { selector: selectorLabels(ctx, service) };
  if (headless) spec.clusterIP = 'None';
  else if (sp.published && ctx.options.serviceType === 'LoadBalancer') spec.type = 'LoadBalancer';
  if (sp.ports.length > 0) spec.ports = sp.ports;
  return {
    object: { apiVersion: 'v1', kind: 'Service', metadata: objectMeta(ctx, name, service), spec },
    comment:
      sp.ports.length === 0
        ? `headless: "${name}" resolves to the ready pods on any port, as the Compose service name does`
        : undefined,
  };
}
