// `depends_on` on a cluster: Kubernetes starts every pod at once, so a dependant waits in an
// initContainer until its dependency's Service answers. A Service only routes to ready pods, and the
// dependency's readinessProbe is its healthcheck, so waiting for a connection waits for
// `service_healthy`, as it does (at worst a little longer) for `service_started`.
import type { Service } from '../compose/model.ts';
import { at, type K8sContext } from './context.ts';
import type { Container } from './k8s-types.ts';

/** A small image with `sh`, `nc -z` and `nslookup`. */
export const WAIT_IMAGE = 'busybox:1.36';

/** What a dependant needs to know of a service it waits for. */
export interface WaitTarget {
  /** How the service runs on the cluster; undefined: it is not converted. */
  workload?: 'Deployment' | 'DaemonSet' | 'Job';
  /** The first port of its Service; undefined for a headless Service without ports. */
  port?: number;
}

export function waitContainers(
  ctx: K8sContext,
  service: Service,
  targets: Map<string, WaitTarget>,
): Container[] {
  const out: Container[] = [];
  for (const [dep, d] of Object.entries(service.dependsOn)) {
    const where = at(service.name, 'depends_on', dep);
    const target = targets.get(dep);
    if (d.restart)
      ctx.report.dropped(
        `${where}.restart`,
        `Kubernetes does not restart ${service.name} when ${dep} restarts`,
      );
    if (!d.required) {
      ctx.report.note(
        where,
        'required: false: not waited for (the pod starts whether or not it is there)',
      );
      continue;
    }
    if (!target?.workload) {
      ctx.report.dropped(where, `${dep} is not converted, so there is nothing to wait for`);
      continue;
    }
    if (d.condition === 'service_completed_successfully' || target.workload === 'Job') {
      ctx.report.dropped(
        where,
        `waiting for the Job ${ctx.names.of(dep)} to complete needs API access from the pod; ` +
          `run it before applying ${service.name}'s objects (kubectl wait --for=condition=complete job/${ctx.names.of(dep)}), ` +
          'or make it an initContainer of its dependant',
      );
      continue;
    }
    out.push(waitContainer(ctx, ctx.names.of(dep), target.port));
  }
  return out;
}

function waitContainer(ctx: K8sContext, host: string, port: number | undefined): Container {
  // Without ports the Service is headless: its name resolves once a pod is ready. The namespace
  // comes from the downward API; a bare name is not resolved by every busybox nslookup.
  const check =
    port === undefined
      ? `nslookup ${host}.$NAMESPACE.svc.cluster.local`
      : `nc -z -w 2 ${host} ${port}`;
  const what = port === undefined ? host : `${host}:${port}`;
  const c: Container = {
    name: `wait-for-${host}`.slice(0, 63),
    image: WAIT_IMAGE,
    command: [
      'sh',
      '-c',
      `until ${check} >/dev/null 2>&1; do echo "waiting for ${what}"; sleep 2; done`,
    ],
  };
  if (port === undefined)
    c.env = [{ name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }];
  if (ctx.options.imagePullPolicy) c.imagePullPolicy = ctx.options.imagePullPolicy;
  return c;
}
