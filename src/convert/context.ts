// What every part of a conversion reads: the typed project, the raw file for what the model does
// not keep, the user's flags, the Kubernetes names of the services and the report of findings.
import type { Project, Service } from '../compose/model.ts';
import { asMap, type RawCompose, type RawMap } from '../compose/raw-tree.ts';
import type { ObjectMeta } from './k8s-types.ts';
import { dnsLabel, type ServiceNames } from './names.ts';
import type { ConvertReport } from './report.ts';

export type ServiceType = 'ClusterIP' | 'LoadBalancer';
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface K8sOptions {
  namespace?: string;
  imagePullPolicy?: PullPolicy;
  /** The type of a Service that publishes ports; expose-only services stay ClusterIP. */
  serviceType: ServiceType;
  /** Turn a recognisable `curl -f http://localhost:PORT/PATH` healthcheck into httpGet. */
  httpProbes: boolean;
}

export interface ConvertSource {
  project: Project;
  raw: RawCompose;
  report: ConvertReport;
}

export interface K8sContext extends ConvertSource {
  options: K8sOptions;
  names: ServiceNames;
}

/** The raw mapping of a service (interpolated and merged; empty when absent). */
export function rawService(src: ConvertSource, service: string): RawMap {
  return asMap(asMap(src.raw.root.services)?.[service]) ?? {};
}

/** A raw sub-mapping of a service: `rawPart(src, 'web', 'deploy', 'update_config')`. */
export function rawPart(
  src: ConvertSource,
  service: string,
  ...keys: string[]
): RawMap | undefined {
  let node: RawMap | undefined = rawService(src, service);
  for (const k of keys) node = asMap(node?.[k]);
  return node;
}

/** `services.web.deploy.update_config`, for the report. */
export function at(service: string, ...keys: string[]): string {
  return ['services', service, ...keys].join('.');
}

/** The labels that select a service's pods (Deployment selector, Service selector, HPA target). */
export function selectorLabels(ctx: K8sContext, service: Service): Record<string, string> {
  return {
    'app.kubernetes.io/name': ctx.names.of(service.name),
    'app.kubernetes.io/part-of': labelValue(ctx.project.name),
  };
}

/** Metadata for an object of the conversion, in the namespace the user asked for. */
export function objectMeta(
  ctx: K8sContext,
  name: string,
  service?: Service,
  annotations?: Record<string, string>,
): ObjectMeta {
  const meta: ObjectMeta = { name };
  if (ctx.options.namespace !== undefined) meta.namespace = ctx.options.namespace;
  meta.labels = {
    ...(service
      ? selectorLabels(ctx, service)
      : { 'app.kubernetes.io/part-of': labelValue(ctx.project.name) }),
    'app.kubernetes.io/managed-by': 'herd',
  };
  if (annotations && Object.keys(annotations).length > 0) meta.annotations = annotations;
  return meta;
}

/** A label value: at most 63 of [A-Za-z0-9._-], starting and ending with a letter or digit. */
function labelValue(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 63)
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || dnsLabel(s)
  );
}
