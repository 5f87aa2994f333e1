// A long-running service as a Deployment (a DaemonSet for `deploy.mode: global`): its replicas
// (none when an HPA owns the count), its pod template, and `update_config` (or herd's
// `x-herd.rollout`) as the rolling-update strategy.
import type { Service } from '../compose/model.ts';
import type { RawMap } from '../compose/raw-tree.ts';
import { at, objectMeta, rawPart, selectorLabels, type K8sContext } from './context.ts';
import type { Manifest, PodTemplate } from './k8s-types.ts';
import { seconds } from './names.ts';
import { parseDuration } from '../compose/units.ts';

export function deploymentObject(
  ctx: K8sContext,
  service: Service,
  template: PodTemplate,
  autoscaled: boolean,
): Manifest {
  const name = ctx.names.of(service.name);
  const deploy = rawPart(ctx, service.name, 'deploy') ?? {};
  const metadata = objectMeta(ctx, name, service, stringMap(deploy.labels));
  const selector = { matchLabels: selectorLabels(ctx, service) };
  if (deploy.mode === 'global') {
    if (autoscaled)
      ctx.report.dropped(
        at(service.name, 'x-herd', 'autoscale'),
        'a global service runs one pod per node: nothing to autoscale',
      );
    reportRollback(ctx, service);
    const { strategy, ...rest } = strategyOf(ctx, service);
    const spec = { selector, ...(strategy ? { updateStrategy: strategy } : {}), ...rest, template };
    return { object: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata, spec } };
  }
  const spec: Record<string, unknown> = {};
  if (!autoscaled) spec.replicas = service.scale;
  spec.selector = selector;
  Object.assign(spec, strategyOf(ctx, service));
  spec.template = template;
  reportRollback(ctx, service);
  return { object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata, spec } };
}

/** `update_config` (Swarm's) or else `x-herd.rollout` (herd's): how many pods change at a time,
 * and whether the new one starts before the old one stops. */
function strategyOf(ctx: K8sContext, service: Service): Record<string, unknown> {
  const update = rawPart(ctx, service.name, 'deploy', 'update_config');
  const rollout = rawPart(ctx, service.name, 'x-herd', 'rollout');
  const source = update ?? rollout;
  if (!source) return {};
  const where = update
    ? at(service.name, 'deploy', 'update_config')
    : at(service.name, 'x-herd', 'rollout');
  const n = typeof source.parallelism === 'number' ? source.parallelism : 1;
  const step = n === 0 ? '100%' : n; // Swarm's parallelism 0: all at once
  const rollingUpdate =
    source.order === 'start-first'
      ? { maxSurge: step, maxUnavailable: 0 }
      : { maxSurge: 0, maxUnavailable: step };
  const out: Record<string, unknown> = { strategy: { type: 'RollingUpdate', rollingUpdate } };
  if (update) Object.assign(out, updateExtras(ctx, update, where));
  else if (rollout?.ready_timeout !== undefined)
    ctx.report.dropped(
      `${where}.ready_timeout`,
      'a Deployment has one deadline for the whole rollout (progressDeadlineSeconds)',
    );
  return out;
}

function updateExtras(ctx: K8sContext, update: RawMap, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const monitor = typeof update.monitor === 'string' ? parseDuration(update.monitor) : undefined;
  // How long a new pod must run before it counts: what Swarm's monitor period watches for.
  if (monitor !== undefined && monitor > 0) out.minReadySeconds = seconds(monitor);
  if (update.delay !== undefined)
    ctx.report.dropped(
      `${where}.delay`,
      'a Deployment does not pause between batches (minReadySeconds holds each new pod back instead)',
    );
  if (update.failure_action === 'rollback' || update.failure_action === 'continue')
    ctx.report.dropped(
      `${where}.failure_action`,
      update.failure_action === 'rollback'
        ? 'a Deployment stops a failing rollout but does not roll back: kubectl rollout undo'
        : 'a Deployment stops a failing rollout (progressDeadlineSeconds)',
    );
  if (update.max_failure_ratio !== undefined)
    ctx.report.dropped(`${where}.max_failure_ratio`, 'a Deployment has no failure ratio');
  return out;
}

function reportRollback(ctx: K8sContext, service: Service): void {
  if (rawPart(ctx, service.name, 'deploy', 'rollback_config'))
    ctx.report.dropped(
      at(service.name, 'deploy', 'rollback_config'),
      "Kubernetes rolls back on request (kubectl rollout undo), with the Deployment's own strategy",
    );
}

function stringMap(raw: unknown): Record<string, string> | undefined {
  if (Array.isArray(raw))
    return Object.fromEntries(
      raw
        .map((s) => String(s).split(/=(.*)/s).slice(0, 2) as [string, string])
        .map(([k, v]) => [k, v ?? '']),
    );
  if (raw && typeof raw === 'object')
    return Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)]),
    );
  return undefined;
}
