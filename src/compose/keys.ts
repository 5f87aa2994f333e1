// Key lists from the Compose specification, so any valid Compose key is recognised, and which of
// them herd honours. Keys Compose knows but herd ignores produce a warning, never an error.

export const TOP_LEVEL_KEYS = [
  'version',
  'name',
  'include',
  'services',
  'networks',
  'volumes',
  'secrets',
  'configs',
  'models',
];

/** Service keys herd reads into the model. */
export const HONOURED_SERVICE_KEYS = [
  'build',
  'command',
  'deploy',
  'depends_on',
  'entrypoint',
  'env_file',
  'environment',
  'expose',
  'extends',
  'healthcheck',
  'image',
  'labels',
  'ports',
  'profiles',
  'restart',
  'scale',
  'stop_grace_period',
  'stop_signal',
  'user',
  'volumes',
  'working_dir',
  // Legacy resource keys, folded into resources like deploy.resources.
  'cpus',
  'cpu_shares',
  'mem_limit',
  'mem_reservation',
  'memswap_limit',
  'pids_limit',
  // Descriptive only: they change nothing herd does, so ignoring them needs no warning.
  'container_name',
  'hostname',
  'platform',
  'pull_policy',
  'tty',
  'stdin_open',
  'init',
];

/** Every other service key in the Compose specification. */
export const OTHER_SERVICE_KEYS = [
  'annotations',
  'attach',
  'blkio_config',
  'cap_add',
  'cap_drop',
  'cgroup',
  'cgroup_parent',
  'configs',
  'cpu_count',
  'cpu_percent',
  'cpu_period',
  'cpu_quota',
  'cpu_rt_period',
  'cpu_rt_runtime',
  'cpuset',
  'credential_spec',
  'develop',
  'device_cgroup_rules',
  'devices',
  'dns',
  'dns_opt',
  'dns_search',
  'domainname',
  'external_links',
  'extra_hosts',
  'gpus',
  'group_add',
  'ipc',
  'isolation',
  'label_file',
  'links',
  'logging',
  'mac_address',
  'mem_swappiness',
  'models',
  'network_mode',
  'networks',
  'oom_kill_disable',
  'oom_score_adj',
  'pid',
  'post_start',
  'pre_stop',
  'privileged',
  'provider',
  'read_only',
  'runtime',
  'secrets',
  'security_opt',
  'shm_size',
  'storage_opt',
  'sysctls',
  'tmpfs',
  'ulimits',
  'use_api_socket',
  'userns_mode',
  'uts',
  'volumes_from',
];

export const ALL_SERVICE_KEYS = [...HONOURED_SERVICE_KEYS, ...OTHER_SERVICE_KEYS];

export const HEALTHCHECK_KEYS = [
  'test',
  'interval',
  'timeout',
  'retries',
  'start_period',
  'start_interval',
  'disable',
];
export const DEPLOY_KEYS = [
  'mode',
  'replicas',
  'labels',
  'rollback_config',
  'update_config',
  'resources',
  'restart_policy',
  'placement',
  'endpoint_mode',
];
export const DEPLOY_HONOURED = [
  'replicas',
  'resources',
  'restart_policy',
  'labels',
  'mode',
  'update_config',
  'rollback_config',
];
export const RESTART_POLICY_KEYS = ['condition', 'delay', 'max_attempts', 'window'];
export const RESOURCES_KEYS = ['limits', 'reservations'];
export const RESOURCE_SET_KEYS = ['cpus', 'memory', 'pids', 'devices', 'generic_resources'];
/** Resource keys (paths under a service) the process runtime applies, through the replica's
 * cgroup (runtime/process/cgroups.ts). */
export const PROCESS_RESOURCE_KEYS = [
  'cpus',
  'cpu_shares',
  'mem_limit',
  'mem_reservation',
  'memswap_limit',
  'pids_limit',
  'deploy.resources.limits.cpus',
  'deploy.resources.limits.memory',
  'deploy.resources.limits.pids',
  'deploy.resources.reservations.memory',
];
export const BUILD_KEYS = [
  'context',
  'dockerfile',
  'dockerfile_inline',
  'args',
  'target',
  'ssh',
  'cache_from',
  'cache_to',
  'additional_contexts',
  'entitlements',
  'extra_hosts',
  'isolation',
  'labels',
  'network',
  'no_cache',
  'platforms',
  'privileged',
  'pull',
  'secrets',
  'shm_size',
  'tags',
  'ulimits',
  'provenance',
  'sbom',
];
export const PORT_KEYS = [
  'target',
  'published',
  'host_ip',
  'protocol',
  'app_protocol',
  'mode',
  'name',
];
export const VOLUME_MOUNT_KEYS = [
  'type',
  'source',
  'target',
  'read_only',
  'consistency',
  'bind',
  'volume',
  'tmpfs',
  'image',
];
export const DEPENDS_ON_KEYS = ['condition', 'required', 'restart'];
export const ENV_FILE_KEYS = ['path', 'required', 'format'];
export const EXTENDS_KEYS = ['service', 'file'];
export const NAMED_VOLUME_KEYS = ['name', 'driver', 'driver_opts', 'external', 'labels'];
/** Service-level `x-herd`. */
export const HERD_SERVICE_KEYS = [
  'runtime',
  'lb',
  'heal_unhealthy',
  'rollout',
  'autoscale',
  'routes',
];
/** Top-level `x-herd`. */
export const HERD_PROJECT_KEYS = ['proxy', 'metrics', 'dashboard', 'ingress'];
export const HERD_LB_KEYS = ['algorithm', 'hash_on', 'sticky'];
