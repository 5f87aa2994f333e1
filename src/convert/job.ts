// A one-shot service (a migration, a seed: something others wait on to complete, or a service
// without ports that must not be restarted) is a Job: its pod runs to completion instead of being
// restarted for ever as a Deployment's would.
import type { Service } from '../compose/model.ts';
import { objectMeta, rawPart, rawService, type K8sContext } from './context.ts';
import type { Manifest, PodTemplate } from './k8s-types.ts';

export function isOneShot(ctx: K8sContext, service: Service): boolean {
  const awaited = Object.values(ctx.project.services).some(
    (s) => s.dependsOn[service.name]?.condition === 'service_completed_successfully',
  );
  if (awaited) return true;
  const raw = rawService(ctx, service.name);
  const policy = rawPart(ctx, service.name, 'deploy', 'restart_policy');
  const neverRestarts =
    raw.restart === 'no' || raw.restart === false || policy?.condition === 'none';
  return neverRestarts && service.ports.length === 0 && service.expose.length === 0;
}

export function jobObject(ctx: K8sContext, service: Service, template: PodTemplate): Manifest {
  const onFailure = service.restart.condition === 'on-failure';
  const spec: Record<string, unknown> = {};
  if (service.scale !== 1) {
    spec.completions = service.scale;
    spec.parallelism = service.scale;
  }
  // Kubernetes' default (6) stands in for Compose's unlimited on-failure.
  if (!onFailure) spec.backoffLimit = 0;
  else if (service.restart.maxAttempts !== undefined)
    spec.backoffLimit = service.restart.maxAttempts;
  spec.template = {
    ...template,
    spec: { ...template.spec, restartPolicy: onFailure ? 'OnFailure' : 'Never' },
  };
  return {
    object: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: objectMeta(ctx, ctx.names.of(service.name), service),
      spec,
    },
  };
}
