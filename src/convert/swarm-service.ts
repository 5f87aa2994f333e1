// One service of a Swarm stack file: what the model normalized (image, command, environment with
// env_file inlined, ports, volumes with absolute paths, healthcheck, resources) written in the v3
// format, `deploy` completed from the file (replicas, resources, restart_policy, update_config,
// rollback_config), the keys Swarm honours carried over as they are, and the rest reported.
import { UPDATE_CONFIG_KEYS } from '../compose/update-config.ts';
import type { Service } from '../compose/model.ts';
import { asMap, type RawMap } from '../compose/raw-tree.ts';
import { at, rawPart, rawService, type ConvertSource } from './context.ts';
import { composeSize, goDuration } from './names.ts';

/** Service keys `docker stack deploy` honours that the model does not keep: copied as written. */
const PASSTHROUGH = [
  'cap_add',
  'cap_drop',
  'configs',
  'credential_spec',
  'dns',
  'dns_search',
  'extra_hosts',
  'hostname',
  'init',
  'isolation',
  'logging',
  'networks',
  'read_only',
  'secrets',
  'stdin_open',
  'sysctls',
  'tmpfs',
  'tty',
  'ulimits',
  'working_dir',
  'stop_signal',
];
/** Keys written from the model, or consumed on the way (env_file is inlined, scale is replicas). */
const WRITTEN = new Set([
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'user',
  'ports',
  'expose',
  'volumes',
  'healthcheck',
  'depends_on',
  'deploy',
  'stop_grace_period',
  'labels',
  'restart',
  'scale',
  'cpus',
  'mem_limit',
  'mem_reservation',
  'pids_limit',
  'x-herd',
  'profiles',
  'extends',
]);

export function swarmService(src: ConvertSource, service: Service, converted: Set<string>): RawMap {
  const raw = rawService(src, service.name);
  const out: RawMap = { image: imageOf(src, service) };
  if (service.command) out.command = service.command;
  if (service.entrypoint) out.entrypoint = service.entrypoint;
  if (service.user !== undefined) out.user = service.user;
  if (Object.keys(service.environment).length > 0) out.environment = { ...service.environment };
  const ports = portsOf(src, service);
  if (ports.length > 0) out.ports = ports;
  if (service.expose.length > 0)
    out.expose = service.expose.map((e) => `${e.port}${e.protocol === 'udp' ? '/udp' : ''}`);
  const volumes = volumesOf(src, service);
  if (volumes.length > 0) out.volumes = volumes;
  const hc = healthcheckOf(src, service);
  if (hc) out.healthcheck = hc;
  const deps = Object.keys(service.dependsOn).filter((d) => converted.has(d));
  if (deps.length > 0) {
    out.depends_on = deps;
    src.report.note(
      at(service.name, 'depends_on'),
      'docker stack deploy starts every service at once (no order, no conditions); Swarm restarts what fails until its dependencies answer',
    );
  }
  out.deploy = deployOf(src, service);
  if (raw.stop_grace_period !== undefined)
    out.stop_grace_period = goDuration(service.stopGracePeriodMs);
  if (Object.keys(service.labels).length > 0) out.labels = { ...service.labels };
  for (const key of PASSTHROUGH) if (raw[key] !== undefined) out[key] = raw[key];
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('x-') && key !== 'x-herd') out[key] = value;
    else if (!WRITTEN.has(key) && !PASSTHROUGH.includes(key) && !key.startsWith('x-'))
      src.report.dropped(
        at(service.name, key),
        'not part of the stack file format, or ignored by docker stack deploy',
      );
  }
  return out;
}

function imageOf(src: ConvertSource, service: Service): string {
  if (service.build)
    src.report.note(
      at(service.name, 'build'),
      'docker stack deploy does not build: build and push the image to a registry every node can pull from',
    );
  if (service.image !== undefined) return service.image;
  const image = `${src.project.name}-${service.name}`;
  src.report.note(at(service.name, 'image'), `"${image}", the name Compose gives the build`);
  return image;
}

function portsOf(src: ConvertSource, service: Service): unknown[] {
  return service.ports.map((p, i) => {
    const where = at(service.name, 'ports', String(i));
    if (p.hostIp !== undefined)
      src.report.dropped(
        `${where}.host_ip`,
        "Swarm's routing mesh publishes on every address of every node",
      );
    if (p.appProtocol !== undefined || p.name !== undefined)
      src.report.dropped(where, 'name and app_protocol are not part of the stack file format');
    if (p.published && p.published.end > p.published.start)
      src.report.note(
        where,
        `host ports ${p.published.start}-${p.published.end} (one per replica) → port ${p.published.start}, balanced over every replica by the routing mesh`,
      );
    const port: RawMap = { target: p.target };
    if (p.published) port.published = p.published.start;
    if (p.protocol === 'udp') port.protocol = 'udp';
    return port;
  });
}

function volumesOf(src: ConvertSource, service: Service): unknown[] {
  return service.volumes.map((m, i) => {
    if (m.type === 'tmpfs') return { type: 'tmpfs', target: m.target };
    if (m.type === 'bind')
      src.report.note(
        at(service.name, 'volumes', String(i)),
        `bind mount of ${m.source}: the folder must exist on every node the task may run on`,
      );
    const ro = m.readOnly ? ':ro' : '';
    return m.source === undefined ? m.target : `${m.source}:${m.target}${ro}`;
  });
}

function healthcheckOf(src: ConvertSource, service: Service): RawMap | undefined {
  const raw = asMap(rawService(src, service.name).healthcheck);
  const hc = service.healthcheck;
  // Disabled in the file: keep it disabled, or Swarm would run the image's HEALTHCHECK.
  if (!hc) return raw ? { disable: true } : undefined;
  const out: RawMap = {};
  if (hc.test)
    out.test = hc.test.kind === 'exec' ? ['CMD', ...hc.test.argv] : ['CMD-SHELL', hc.test.command];
  out.interval = goDuration(hc.intervalMs);
  out.timeout = goDuration(hc.timeoutMs);
  out.retries = hc.retries;
  if (hc.startPeriodMs > 0) out.start_period = goDuration(hc.startPeriodMs);
  if (raw?.start_interval !== undefined)
    src.report.dropped(
      at(service.name, 'healthcheck', 'start_interval'),
      'not part of the stack file format: Swarm checks every interval from the start',
    );
  return out;
}

function deployOf(src: ConvertSource, service: Service): RawMap {
  const raw = rawPart(src, service.name, 'deploy') ?? {};
  const out: RawMap = {};
  if (raw.mode === 'global') out.mode = 'global';
  else out.replicas = service.scale;
  const resources = resourcesOf(src, service);
  if (resources) out.resources = resources;
  const restart = restartPolicyOf(src, service);
  if (restart) out.restart_policy = restart;
  const update = updateConfigOf(src, service);
  if (update) out.update_config = update;
  for (const key of ['rollback_config', 'placement', 'labels', 'endpoint_mode'])
    if (raw[key] !== undefined) out[key] = raw[key];
  return out;
}

function resourcesOf(src: ConvertSource, service: Service): RawMap | undefined {
  const out: RawMap = {};
  for (const [key, set] of [
    ['limits', service.resources.limits],
    ['reservations', service.resources.reservations],
  ] as const) {
    const r: RawMap = {};
    if (set.cpus !== undefined) r.cpus = String(set.cpus);
    if (set.memoryBytes !== undefined) r.memory = composeSize(set.memoryBytes);
    if (set.pids !== undefined)
      src.report.dropped(
        at(service.name, 'deploy', 'resources', key, 'pids'),
        'not part of the stack file format',
      );
    const generic = rawPart(src, service.name, 'deploy', 'resources', key)?.generic_resources;
    if (key === 'reservations' && generic !== undefined) r.generic_resources = generic;
    if (rawPart(src, service.name, 'deploy', 'resources', key)?.devices !== undefined)
      src.report.dropped(
        at(service.name, 'deploy', 'resources', key, 'devices'),
        'Swarm services get devices through generic_resources',
      );
    if (Object.keys(r).length > 0) out[key] = r;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Written when the file sets one (`restart:` or `deploy.restart_policy`): Swarm ignores `restart:`. */
function restartPolicyOf(src: ConvertSource, service: Service): RawMap | undefined {
  const raw = rawService(src, service.name);
  if (
    raw.restart === undefined &&
    rawPart(src, service.name, 'deploy', 'restart_policy') === undefined
  )
    return undefined;
  const r = service.restart;
  const condition =
    r.condition === 'no' ? 'none' : r.condition === 'on-failure' ? 'on-failure' : 'any';
  if (r.condition === 'unless-stopped')
    src.report.note(
      at(service.name, 'restart'),
      'unless-stopped → condition any: a Swarm task stopped by hand is replaced',
    );
  const out: RawMap = { condition };
  if (r.delayMs !== undefined) out.delay = goDuration(r.delayMs);
  if (r.maxAttempts !== undefined) out.max_attempts = r.maxAttempts;
  if (r.windowMs !== undefined) out.window = goDuration(r.windowMs);
  return out;
}

/** `deploy.update_config` as written, else herd's `x-herd.rollout` in Swarm's words. */
function updateConfigOf(src: ConvertSource, service: Service): RawMap | undefined {
  const update = rawPart(src, service.name, 'deploy', 'update_config');
  if (update) return update;
  const rollout = rawPart(src, service.name, 'x-herd', 'rollout');
  if (!rollout) return undefined;
  const out = Object.fromEntries(
    Object.entries(rollout).filter(([k]) => UPDATE_CONFIG_KEYS.includes(k)),
  );
  if (rollout.ready_timeout !== undefined)
    src.report.dropped(
      at(service.name, 'x-herd', 'rollout', 'ready_timeout'),
      'Swarm watches a new task for update_config.monitor, with no deadline of its own',
    );
  return Object.keys(out).length > 0 ? out : undefined;
}
