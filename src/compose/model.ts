// The normalized Project model: every short/long Compose syntax resolved into one typed shape.
// compose/ produces it; engine/, runtime/ and proxy/ only ever read it.
import type { UpdateConfig } from './update-config.ts';

export interface Project {
  /** Normalized project name (lowercase, [a-z0-9_-], as Compose normalizes it). */
  name: string;
  /** Absolute project folder: the folder of the first compose file (or --project-directory). */
  workingDir: string;
  /** Absolute paths of the compose files, in merge order. */
  composeFiles: string[];
  /** Services in file order; disabled profiles already removed. */
  services: Record<string, Service>;
  /** Top-level volumes (named volumes), kept for the Docker runtime. */
  volumes: Record<string, NamedVolume>;
  /** Top-level `secrets` and `configs`: where each one's content comes from. */
  secrets?: Record<string, FileObject>;
  configs?: Record<string, FileObject>;
  /** Top-level `networks` (Docker services; the `default` one is implicit). */
  networks?: Record<string, NetworkDef>;
  /** Top-level `x-herd`. */
  herd: HerdProjectExtension;
  /** Non-fatal findings: unset variables, keys herd cannot honour. Each listed once. */
  warnings: string[];
}

export interface Service {
  name: string;
  image?: string;
  build?: BuildSpec;
  /** argv; undefined means "the image's default" (Docker) or "nothing to run" (process). */
  command?: string[];
  entrypoint?: string[];
  /** env_file merged under environment (environment wins). Keys without a value are resolved
   * from the shell environment, or left out when unset, as Compose does. */
  environment: Record<string, string>;
  /** Absolute working directory for process replicas; Compose's container path for Docker. */
  workingDir?: string;
  user?: string;
  ports: PortSpec[];
  expose: ExposeSpec[];
  /** Desired replica count from `scale` / `deploy.replicas` (default 1). */
  scale: number;
  restart: RestartPolicy;
  /** undefined: no healthcheck (none defined, `disable: true` or `test: [NONE]`). */
  healthcheck?: Healthcheck;
  dependsOn: Record<string, Dependency>;
  /** Signal name as Node knows it, e.g. 'SIGTERM'. */
  stopSignal: NodeJS.Signals;
  stopGracePeriodMs: number;
  resources: Resources;
  /** `deploy.update_config` / `deploy.rollback_config`, the keys as written (compose/update-config.ts). */
  updateConfig?: UpdateConfig;
  rollbackConfig?: UpdateConfig;
  profiles: string[];
  labels: Record<string, string>;
  volumes: VolumeMount[];
  /** The secrets and configs the service is given, as files (compose/secrets.ts). */
  secrets?: FileMount[];
  configs?: FileMount[];
  /** The networks it joins (Docker), with their aliases; undefined: the project's default. */
  networks?: Record<string, ServiceNetwork>;
  /** Service-level `x-herd`. */
  herd: HerdServiceExtension;
}

export interface BuildSpec {
  /** Absolute path of the build context. */
  context: string;
  dockerfile?: string;
  args: Record<string, string>;
  target?: string;
}

export type Protocol = 'tcp' | 'udp';

export interface PortRange {
  start: number;
  end: number;
}

export interface PortSpec {
  /** Container/replica port. Target ranges are expanded to one PortSpec per port. */
  target: number;
  /** Host port or range; undefined means an ephemeral host port per replica. */
  published?: PortRange;
  /** Host IP to bind; undefined means all interfaces, as Compose does. */
  hostIp?: string;
  protocol: Protocol;
  /** `app_protocol` from the long syntax (e.g. 'http', 'tcp'); undefined = sniff. */
  appProtocol?: string;
  name?: string;
}

export interface ExposeSpec {
  port: number;
  protocol: Protocol;
}

export type RestartCondition = 'no' | 'always' | 'on-failure' | 'unless-stopped';

export interface RestartPolicy {
  condition: RestartCondition;
  /** on-failure:N or deploy.restart_policy.max_attempts; undefined = unlimited. */
  maxAttempts?: number;
  /** deploy.restart_policy.delay (Swarm's default 5 s): the fixed pause between attempts;
   * undefined for `restart:`, which backs off exponentially from 100 ms. */
  delayMs?: number;
  /** From deploy.restart_policy: Swarm's semantics, a fixed delay between attempts. */
  fixedDelay?: boolean;
  /** deploy.restart_policy.window: how long a restart must stay up to count as a success. */
  windowMs?: number;
}

export type HealthTest = { kind: 'exec'; argv: string[] } | { kind: 'shell'; command: string };

export interface Healthcheck {
  /** undefined: inherit the image's healthcheck (Docker only). */
  test?: HealthTest;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
  startIntervalMs: number;
}

export type DependencyCondition =
  'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  condition: DependencyCondition;
  required: boolean;
  restart: boolean;
}

export interface ResourceSet {
  /** undefined: no limit. Compose's `0` (Docker's "unlimited") is read as undefined. */
  memoryBytes?: number;
  cpus?: number;
  pids?: number;
}

export interface Resources {
  limits: ResourceSet;
  reservations: ResourceSet;
  /** `memswap_limit`: memory + swap; -1 for unlimited swap. undefined: Docker's default, as
   * much swap as the memory limit. */
  memswapBytes?: number;
  /** `cpu_shares`: relative CPU weight against other replicas (Docker's default 1024). */
  cpuShares?: number;
}

export interface VolumeMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Absolute host path for bind mounts, volume name for named volumes. */
  source?: string;
  target: string;
  readOnly: boolean;
}

export interface NamedVolume {
  name: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
}

/** A top-level secret or config. Exactly one source: a host file, a variable of the project
 * environment (its value read at load, in `content`), or inline `content` (configs only). */
export interface FileObject {
  /** Absolute host path (`file:`). */
  file?: string;
  /** The variable named by `environment:`. */
  environment?: string;
  /** The text, for `environment:` and `content:` sources. */
  content?: string;
  /** `external: true`: managed by Swarm, which herd does not run (refused at load when used). */
  external: boolean;
}

/** A secret or config given to a service: `source` names the top-level one. */
export interface FileMount {
  source: string;
  /** Absolute path in a container: /run/secrets/<name> for secrets, /<name> for configs unless
   * `target` says otherwise. */
  target: string;
  uid?: string;
  gid?: string;
  /** File mode (secrets default 0o444 in containers, as Compose; processes get 0o400/0o444). */
  mode?: number;
}

export interface NetworkDef {
  /** The engine's name: `name:`, else `<project>_<key>`. */
  name: string;
  external: boolean;
  internal: boolean;
  driver?: string;
  labels: Record<string, string>;
}

export interface ServiceNetwork {
  aliases: string[];
}

export type LbAlgorithm = 'round_robin' | 'least_conn' | 'p2c' | 'hash';

export interface HerdServiceExtension {
  /** Force a runtime; default: docker when image/build and no command... (see runtime selection). */
  runtime?: 'process' | 'docker';
  /** Load-balancing settings for this service's balancer(s). */
  lb: {
    algorithm: LbAlgorithm;
    /** For `hash`: what to hash. */
    hashOn?: { kind: 'ip' } | { kind: 'header'; name: string } | { kind: 'cookie'; name: string };
    /** Sticky sessions by cookie: the cookie's name, when enabled. */
    stickyCookie?: string;
  };
  /** Restart replicas that turn unhealthy (default true). */
  healUnhealthy: boolean;
  /** Settings kept as plain values for the part of herd that reads them, checked at load with
   * that part's rules (compose/herd-settings.ts): `rollout` (engine/rollout.ts). */
  extra: Record<string, unknown>;
}

export interface HerdProjectExtension {
  /** As for services: `proxy` (proxy/settings.ts), checked at load. */
  extra: Record<string, unknown>;
}
