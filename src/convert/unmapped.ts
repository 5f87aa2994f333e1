// Every key of the file that the Kubernetes conversion does not carry over is reported here, by
// name, so nothing is dropped in silence: the keys no builder reads, and the parts of keys they read
// only in part (restart policies, resources, herd's own settings).
import type { Service } from '../compose/model.ts';
import { asMap } from '../compose/raw-tree.ts';
import { at, rawPart, rawService, type K8sContext } from './context.ts';

/** Service keys some part of the conversion reads (or that only select and shape the file). */
const CONVERTED = new Set([
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'working_dir',
  'user',
  'ports',
  'expose',
  'scale',
  'restart',
  'healthcheck',
  'depends_on',
  'stop_grace_period',
  'stop_signal',
  'labels',
  'volumes',
  'deploy',
  'cpus',
  'mem_limit',
  'mem_reservation',
  'pids_limit',
  'x-herd',
  'secrets',
  'configs',
  'tmpfs',
  'shm_size',
  'hostname',
  'extra_hosts',
  'dns',
  'dns_search',
  'sysctls',
  'cap_add',
  'cap_drop',
  'privileged',
  'read_only',
  'tty',
  'stdin_open',
  'profiles',
  'extends',
  'pull_policy',
]);

/** Why a key has no equivalent, where there is more to say than that. */
const REASONS: Record<string, string> = {
  container_name: 'pods are named by their Deployment',
  networks:
    'a cluster has one flat network where every Service resolves by name; isolate with NetworkPolicies',
  links: 'every Service resolves by name',
  external_links: 'every Service resolves by name',
  logging: 'the cluster collects what containers write to stdout and stderr',
  platform: 'select nodes with nodeSelector kubernetes.io/arch instead',
  init: 'use an init in the image (tini) or shareProcessNamespace',
  network_mode: 'pods have their own network namespace (hostNetwork is a pod setting)',
  ulimits: "limits are the container runtime's on the node",
  devices: 'devices come from device plugins',
};

const HERD_REASONS: Record<string, string> = {
  runtime: 'the cluster runs containers only',
  lb: "a Service spreads connections with kube-proxy's own balancing (sessionAffinity: ClientIP for stickiness)",
};

export function reportUnmapped(ctx: K8sContext, service: Service, workload: string): void {
  const raw = rawService(ctx, service.name);
  for (const key of Object.keys(raw))
    if (!CONVERTED.has(key) && !key.startsWith('x-'))
      ctx.report.dropped(at(service.name, key), REASONS[key] ?? 'no Kubernetes equivalent');
  for (const key of Object.keys(rawPart(ctx, service.name, 'x-herd') ?? {}))
    if (HERD_REASONS[key]) ctx.report.dropped(at(service.name, 'x-herd', key), HERD_REASONS[key]);
  const herdOff = rawPart(ctx, service.name, 'x-herd')?.heal_unhealthy === false;
  if (herdOff)
    ctx.report.note(
      at(service.name, 'x-herd', 'heal_unhealthy'),
      'false: a readinessProbe only, no livenessProbe',
    );
  for (const set of ['limits', 'reservations'])
    for (const key of ['devices', 'generic_resources'])
      if (rawPart(ctx, service.name, 'deploy', 'resources', set)?.[key] !== undefined)
        ctx.report.dropped(
          at(service.name, 'deploy', 'resources', set, key),
          "request devices through a device plugin's extended resource",
        );
  reportRestart(ctx, service, workload);
}

function reportRestart(ctx: K8sContext, service: Service, workload: string): void {
  const raw = rawService(ctx, service.name);
  const policy = rawPart(ctx, service.name, 'deploy', 'restart_policy');
  for (const key of ['delay', 'window', ...(workload === 'Job' ? [] : ['max_attempts'])])
    if (policy?.[key] !== undefined)
      ctx.report.dropped(
        at(service.name, 'deploy', 'restart_policy', key),
        'Kubernetes restarts with its own back-off (10 s, doubling up to 5 min)',
      );
  const explicit = raw.restart !== undefined || policy?.condition !== undefined;
  if (
    explicit &&
    workload !== 'Job' &&
    service.restart.condition !== 'always' &&
    service.restart.condition !== 'unless-stopped'
  )
    ctx.report.note(
      at(service.name, raw.restart !== undefined ? 'restart' : 'deploy.restart_policy.condition'),
      `"${service.restart.condition}": a ${workload}'s pods are always restarted`,
    );
}

/** Top-level keys with no equivalent: networks, volume drivers, herd's own project settings. */
export function reportUnmappedProject(ctx: K8sContext): void {
  const root = ctx.raw.root;
  if (asMap(root.networks) && Object.keys(asMap(root.networks) ?? {}).length > 0)
    ctx.report.dropped('networks', REASONS.networks as string);
  for (const [name, def] of Object.entries(asMap(root.volumes) ?? {}))
    for (const key of ['driver', 'driver_opts'])
      if (asMap(def)?.[key] !== undefined)
        ctx.report.dropped(
          `volumes.${name}.${key}`,
          "a claim gets its storage from the cluster's StorageClass",
        );
  for (const key of Object.keys(asMap(root['x-herd']) ?? {}))
    ctx.report.dropped(
      `x-herd.${key}`,
      key === 'ingress'
        ? "the cluster's ingress controller owns the addresses and TLS (cert-manager for certificates)"
        : `herd's own ${key} settings do not apply on a cluster`,
    );
}
