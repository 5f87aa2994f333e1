// `x-herd.autoscale` as an autoscaling/v2 HorizontalPodAutoscaler. herd's decision is the HPA's
// (desired = ceil(current × metric / target), scale-down after `cooldown`), so the numbers carry
// over; the targets are stated so they mean on the cluster what they mean in herd.
import type { Autoscale } from '../compose/autoscale.ts';
import type { Service } from '../compose/model.ts';
import { at, objectMeta, type K8sContext } from './context.ts';
import type { Manifest } from './k8s-types.ts';
import { cpuQuantity, memoryQuantity, seconds } from './names.ts';

/** The per-pod metric a metrics adapter must serve for an `rps` target. */
export const RPS_METRIC = 'http_requests_per_second';

export function hpaObject(ctx: K8sContext, service: Service, as: Autoscale): Manifest {
  const where = at(service.name, 'x-herd', 'autoscale');
  const name = ctx.names.of(service.name);
  const metrics = metricsOf(ctx, service, as);
  reportUnsupported(ctx, where, as);
  let minReplicas = as.min;
  if (minReplicas === 0) {
    minReplicas = 1;
    ctx.report.note(
      `${where}.min`,
      'min 0 → minReplicas 1: scaling to zero needs the HPAScaleToZero feature gate',
    );
  }
  const spec: Record<string, unknown> = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    minReplicas,
    maxReplicas: as.max,
  };
  if (metrics.length > 0) spec.metrics = metrics;
  if (as.cooldownMs !== undefined)
    spec.behavior = { scaleDown: { stabilizationWindowSeconds: seconds(as.cooldownMs, 0) } };
  return {
    object: {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: objectMeta(ctx, name, service),
      spec,
    },
    comment:
      as.rps !== undefined
        ? `the ${RPS_METRIC} Pods metric needs a custom-metrics adapter (e.g. prometheus-adapter) serving it for these pods`
        : undefined,
  };
}

function metricsOf(ctx: K8sContext, service: Service, as: Autoscale): unknown[] {
  const where = at(service.name, 'x-herd', 'autoscale');
  const { limits, reservations } = service.resources;
  const metrics: unknown[] = [];
  if (as.cpu !== undefined)
    metrics.push(resourceMetric('cpu', as.cpu, limits.cpus, reservations.cpus, cpuQuantity));
  if (as.memory !== undefined && limits.memoryBytes === undefined)
    ctx.report.dropped(
      `${where}.memory`,
      'a memory target is a % of the memory limit, and the service has none',
    );
  else if (as.memory !== undefined)
    metrics.push(
      resourceMetric('memory', as.memory, limits.memoryBytes, reservations.memoryBytes, (n) =>
        memoryQuantity(Math.round(n)),
      ),
    );
  if (as.rps !== undefined) {
    metrics.push({
      type: 'Pods',
      pods: {
        metric: { name: RPS_METRIC },
        target: { type: 'AverageValue', averageValue: String(as.rps) },
      },
    });
    ctx.report.note(
      `${where}.rps`,
      `a Pods metric ${RPS_METRIC}: the cluster needs a custom-metrics adapter (prometheus-adapter, for one) that serves it`,
    );
  }
  return metrics;
}

function reportUnsupported(ctx: K8sContext, where: string, as: Autoscale): void {
  if (as.redisList)
    ctx.report.dropped(
      `${where}.redis_list`,
      "an HPA has no queue-length metric without an external-metrics adapter; KEDA's redis scaler does this",
    );
  if (as.windowMs !== undefined)
    ctx.report.dropped(
      `${where}.window`,
      "the HPA's metric window is the cluster's (metrics-server resolution)",
    );
  if (as.idleMs !== undefined)
    ctx.report.dropped(
      `${where}.idle`,
      'an HPA does not scale to zero on idleness; Knative or the KEDA HTTP add-on does',
    );
}

/** herd reads a cpu (memory) target as a % of the limit, or of one core without one; the HPA reads
 * Utilization as a % of the request, which is the limit when only a limit is set. Utilization where
 * the two agree, else the same amount as an AverageValue. */
function resourceMetric(
  name: 'cpu' | 'memory',
  percent: number,
  limit: number | undefined,
  request: number | undefined,
  quantity: (n: number) => string,
): unknown {
  const target =
    limit !== undefined && (request === undefined || request === limit)
      ? { type: 'Utilization', averageUtilization: Math.round(percent) }
      : { type: 'AverageValue', averageValue: quantity(((limit ?? 1) * percent) / 100) };
  return { type: 'Resource', resource: { name, target } };
}
