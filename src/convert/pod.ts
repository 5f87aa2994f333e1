// A service's pod template, shared by its Deployment, DaemonSet or Job: the container with its
// environment, probes, ports and mounts, the initContainers that wait for its dependencies, and the
// pod-level settings (grace period, host aliases, DNS, sysctls, node selection).
import type { Service } from '../compose/model.ts';
import { asMap, type RawMap } from '../compose/raw-tree.ts';
import { baseContainer } from './container.ts';
import { at, rawPart, rawService, selectorLabels, type K8sContext } from './context.ts';
import { waitContainers, type WaitTarget } from './depends.ts';
import { podEnv } from './env.ts';
import { mountedFiles } from './files.ts';
import type {
  Container,
  ContainerPort,
  Manifest,
  PodSpec,
  PodTemplate,
  Volume,
} from './k8s-types.ts';
import { seconds } from './names.ts';
import { probesFor } from './probes.ts';
import { podVolumes } from './pvc.ts';

export interface PodParts {
  template: PodTemplate;
  /** The ConfigMaps, Secrets and claims the pod reads. */
  manifests: Manifest[];
}

export function podTemplate(
  ctx: K8sContext,
  service: Service,
  ports: ContainerPort[],
  targets: Map<string, WaitTarget>,
): PodParts {
  const { resources, securityContext, ...base } = baseContainer(ctx, service);
  const env = podEnv(ctx, service);
  const files = mountedFiles(ctx, service);
  const vols = podVolumes(ctx, service);
  const mounts = [...vols.mounts, ...files.mounts];
  // In the order a person writes them: what runs, its settings, its limits, its checks, its mounts.
  const container: Container = {
    ...base,
    ...(env.env.length > 0 ? { env: env.env } : {}),
    ...(env.envFrom.length > 0 ? { envFrom: env.envFrom } : {}),
    ...(ports.length > 0 ? { ports } : {}),
    ...(resources ? { resources } : {}),
    ...probesFor(ctx, service),
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    ...(securityContext ? { securityContext } : {}),
  };
  const spec: PodSpec = { containers: [container], ...podSettings(ctx, service) };
  const waits = waitContainers(ctx, service, targets);
  if (waits.length > 0) spec.initContainers = waits;
  const volumes = unique([...vols.volumes, ...files.volumes]);
  if (volumes.length > 0) spec.volumes = volumes;
  const template: PodTemplate = { metadata: { labels: selectorLabels(ctx, service) }, spec };
  // Compose labels are free text; Kubernetes label values are not, annotations are.
  if (Object.keys(service.labels).length > 0) template.metadata.annotations = { ...service.labels };
  return { template, manifests: [...env.manifests, ...files.manifests, ...vols.claims] };
}

function podSettings(ctx: K8sContext, service: Service): Partial<PodSpec> {
  const raw = rawService(ctx, service.name);
  const where = (key: string) => at(service.name, key);
  const out: Partial<PodSpec> = {};
  if (raw.stop_grace_period !== undefined)
    out.terminationGracePeriodSeconds = seconds(service.stopGracePeriodMs, 0);
  if (service.stopSignal !== 'SIGTERM')
    ctx.report.dropped(
      where('stop_signal'),
      `Kubernetes stops a container with its image's STOPSIGNAL; put STOPSIGNAL ${service.stopSignal} in the Dockerfile`,
    );
  if (typeof raw.hostname === 'string') out.hostname = raw.hostname;
  const aliases = hostAliases(raw.extra_hosts);
  if (aliases.length > 0) out.hostAliases = aliases;
  const dns = list(raw.dns);
  const searches = list(raw.dns_search);
  if (dns.length > 0 || searches.length > 0)
    out.dnsConfig = {
      ...(dns.length ? { nameservers: dns } : {}),
      ...(searches.length ? { searches } : {}),
    };
  const sysctls = pairs(raw.sysctls, '=');
  if (sysctls.length > 0)
    out.securityContext = { sysctls: sysctls.map(([name, value]) => ({ name, value })) };
  const nodeSelector = placement(ctx, service);
  if (nodeSelector) out.nodeSelector = nodeSelector;
  return out;
}

/** `deploy.placement.constraints`: `node.labels.K == V` is a nodeSelector; the rest is reported. */
function placement(ctx: K8sContext, service: Service): Record<string, string> | undefined {
  const p = rawPart(ctx, service.name, 'deploy', 'placement');
  if (!p) return undefined;
  const where = at(service.name, 'deploy', 'placement');
  const out: Record<string, string> = {};
  for (const c of list(p.constraints)) {
    const m = /^node\.labels\.([^=!\s]+)\s*==\s*(\S+)$/.exec(c);
    if (m) out[m[1] as string] = m[2] as string;
    else
      ctx.report.dropped(
        `${where}.constraints`,
        `"${c}": only node.labels.KEY==VALUE becomes a nodeSelector; use node affinity`,
      );
  }
  for (const key of Object.keys(p))
    if (key !== 'constraints')
      ctx.report.dropped(`${where}.${key}`, 'use topologySpreadConstraints or node affinity');
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `extra_hosts` as a list ("host:ip", "host=ip") or a mapping, grouped by address. */
function hostAliases(raw: unknown): { ip: string; hostnames: string[] }[] {
  const byIp = new Map<string, string[]>();
  for (const [host, ip] of asMap(raw)
    ? Object.entries(raw as RawMap).map(([h, v]) => [h, String(v)] as const)
    : pairs(raw, /[:=]/)) {
    const ips = ip.split(',');
    for (const one of ips) byIp.set(one, [...(byIp.get(one) ?? []), host]);
  }
  return [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
}

function list(raw: unknown): string[] {
  if (typeof raw === 'string') return [raw];
  return Array.isArray(raw) ? raw.map(String) : [];
}

/** "k=v" items (split at the first separator) or a mapping, as [key, value] pairs. */
function pairs(raw: unknown, sep: string | RegExp): [string, string][] {
  const map = asMap(raw);
  if (map) return Object.entries(map).map(([k, v]) => [k, String(v)]);
  return list(raw).flatMap((item): [string, string][] => {
    const i = item.search(sep);
    return i < 0 ? [] : [[item.slice(0, i), item.slice(i + 1)]];
  });
}

function unique(volumes: Volume[]): Volume[] {
  return volumes.filter((v, i) => volumes.findIndex((w) => w.name === v.name) === i);
}
