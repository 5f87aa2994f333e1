// The parts of the Kubernetes API that convert/ writes, typed so a misspelt field fails to compile
// (the tests validate the output against the official schemas as well).

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Any Kubernetes object; `comment` is written above it in the YAML (never sent to the API). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface Manifest {
  object: K8sObject;
  comment?: string;
}

export interface ExecAction {
  command: string[];
}

export interface HttpGetAction {
  path: string;
  port: number;
  scheme?: 'HTTP' | 'HTTPS';
  httpHeaders?: { name: string; value: string }[];
}

export interface Probe {
  exec?: ExecAction;
  httpGet?: HttpGetAction;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
  initialDelaySeconds?: number;
}

export type EnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { fieldRef: { fieldPath: string } } };

export interface EnvFromSource {
  configMapRef?: { name: string };
  secretRef?: { name: string };
}

export interface ContainerPort {
  containerPort: number;
  protocol?: 'UDP';
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: { medium?: 'Memory'; sizeLimit?: string };
  secret?: { secretName: string; items?: { key: string; path: string; mode?: number }[] };
  configMap?: { name: string; items?: { key: string; path: string; mode?: number }[] };
}

export interface ResourceList {
  cpu?: string;
  memory?: string;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  resources?: { limits?: ResourceList; requests?: ResourceList };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: VolumeMount[];
  securityContext?: SecurityContext;
  tty?: boolean;
  stdin?: boolean;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  hostname?: string;
  hostAliases?: { ip: string; hostnames: string[] }[];
  dnsConfig?: { nameservers?: string[]; searches?: string[] };
  nodeSelector?: Record<string, string>;
  securityContext?: { sysctls?: { name: string; value: string }[] };
}

export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}
