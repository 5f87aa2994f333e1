// The container of a service's pod: image, entrypoint and command (Compose's `entrypoint` is
// Kubernetes' `command`, Compose's `command` its `args`), resources in Kubernetes' units, user and
// privileges.
import type { ResourceSet, Service } from '../compose/model.ts';
import { at, rawService, type K8sContext, type PullPolicy } from './context.ts';
import { escapeExpansion } from './env.ts';
import type { Container, ResourceList, SecurityContext } from './k8s-types.ts';
import { cpuQuantity, memoryQuantity } from './names.ts';

/** Compose's `pull_policy` as Kubernetes' imagePullPolicy (the flag wins). */
const PULL_POLICIES: Record<string, PullPolicy> = {
  always: 'Always',
  never: 'Never',
  missing: 'IfNotPresent',
  if_not_present: 'IfNotPresent',
};

/** The image a service runs on the cluster: its `image`, or the name Compose gives what it builds. */
export function imageOf(ctx: K8sContext, service: Service): string {
  if (service.image !== undefined) return service.image;
  const image = `${ctx.project.name}-${service.name}`;
  ctx.report.note(
    at(service.name, 'build'),
    `image "${image}" (the name Compose gives the build): build it and push it to a registry the cluster pulls from, then set image:`,
  );
  return image;
}

/** The container without env, probes, ports and mounts (the pod assembles those). */
export function baseContainer(ctx: K8sContext, service: Service): Container {
  const raw = rawService(ctx, service.name);
  const c: Container = { name: ctx.names.of(service.name), image: imageOf(ctx, service) };
  const pull = ctx.options.imagePullPolicy ?? PULL_POLICIES[String(raw.pull_policy)];
  if (pull) c.imagePullPolicy = pull;
  if (service.entrypoint) c.command = service.entrypoint.map(escapeExpansion);
  if (service.command) c.args = service.command.map(escapeExpansion);
  if (typeof raw.working_dir === 'string') c.workingDir = raw.working_dir;
  const resources = resourcesOf(ctx, service);
  if (resources) c.resources = resources;
  const security = securityOf(ctx, service);
  if (Object.keys(security).length > 0) c.securityContext = security;
  if (raw.tty === true) c.tty = true;
  if (raw.stdin_open === true) c.stdin = true;
  return c;
}

function resourcesOf(ctx: K8sContext, service: Service): Container['resources'] {
  const { limits, reservations } = service.resources;
  for (const [set, key] of [
    [limits, 'limits'],
    [reservations, 'reservations'],
  ] as const)
    if (set.pids !== undefined)
      ctx.report.dropped(
        at(service.name, 'deploy', 'resources', key, 'pids'),
        "a pod's process limit is the kubelet's (podPidsLimit), not the manifest's",
      );
  const out: Container['resources'] = {};
  const l = quantities(limits);
  const r = quantities(reservations);
  if (l) out.limits = l;
  if (r) out.requests = r;
  return l || r ? out : undefined;
}

function quantities(set: ResourceSet): ResourceList | undefined {
  const out: ResourceList = {};
  if (set.cpus !== undefined && set.cpus > 0) out.cpu = cpuQuantity(set.cpus);
  if (set.memoryBytes !== undefined) out.memory = memoryQuantity(set.memoryBytes);
  return Object.keys(out).length > 0 ? out : undefined;
}

function securityOf(ctx: K8sContext, service: Service): SecurityContext {
  const raw = rawService(ctx, service.name);
  const out: SecurityContext = {};
  if (service.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(service.user);
    if (m) {
      out.runAsUser = Number(m[1]);
      if (m[2] !== undefined) out.runAsGroup = Number(m[2]);
    } else
      ctx.report.dropped(
        at(service.name, 'user'),
        `"${service.user}": Kubernetes runs as a numeric uid[:gid]; write the numbers`,
      );
  }
  if (raw.privileged === true) out.privileged = true;
  if (raw.read_only === true) out.readOnlyRootFilesystem = true;
  const caps = (key: 'cap_add' | 'cap_drop') =>
    Array.isArray(raw[key])
      ? (raw[key] as unknown[]).map((c) => String(c).replace(/^CAP_/, ''))
      : [];
  const add = caps('cap_add');
  const drop = caps('cap_drop');
  if (add.length > 0 || drop.length > 0)
    out.capabilities = { ...(add.length ? { add } : {}), ...(drop.length ? { drop } : {}) };
  return out;
}
