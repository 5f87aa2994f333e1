// Project → a stack file for `docker stack deploy`: version "3.8" (Docker refuses a stack file
// without a version; start_period needs 3.4, rollback_config 3.7), no top-level `name` (the stack
// is named on the command line), herd's `x-herd` keys removed with what Swarm lacks reported, and
// every `$` doubled, since the values are already interpolated and Docker would interpolate again.
import type { Service } from '../compose/model.ts';
import { asMap, type RawMap } from '../compose/raw-tree.ts';
import { runtimeKind } from '../compose/runtime-kind.ts';
import path from 'node:path';
import { at, rawPart, type ConvertSource } from './context.ts';
import { swarmService } from './swarm-service.ts';

export const STACK_VERSION = '3.8';

const HERD_SERVICE_REASONS: Record<string, string> = {
  autoscale: 'Swarm has no autoscaling: scale with docker service scale, or an external autoscaler',
  routes: 'Swarm has no host or path routing: put Traefik (traefik.* labels) or nginx in front',
  lb: "Swarm's routing mesh balances connections round-robin, with no other algorithm or stickiness",
  runtime: 'Swarm runs containers only',
};
/** Top-level definitions and the keys the v3 format has for each. */
const TOP_LEVEL: Record<string, string[]> = {
  volumes: ['name', 'driver', 'driver_opts', 'external', 'labels'],
  networks: [
    'name',
    'driver',
    'driver_opts',
    'ipam',
    'external',
    'internal',
    'attachable',
    'labels',
  ],
  secrets: ['name', 'file', 'external', 'labels', 'driver', 'driver_opts', 'template_driver'],
  configs: ['name', 'file', 'external', 'labels', 'template_driver'],
};

export function toSwarm(src: ConvertSource): RawMap {
  const converted = new Set<string>();
  const services = Object.values(src.project.services).filter((s) => {
    const ok = runtimeKind(s) === 'docker' || s.image !== undefined || s.build !== undefined;
    if (ok) converted.add(s.name);
    else
      src.report.dropped(
        at(s.name),
        'runs as a local process (no image): give it an image: (or build:) to run it on Swarm',
      );
    return ok;
  });
  const doc: RawMap = { version: STACK_VERSION, services: {} };
  for (const service of services) {
    (doc.services as RawMap)[service.name] = swarmService(src, service, converted);
    reportHerd(src, service);
  }
  for (const [kind, keys] of Object.entries(TOP_LEVEL)) {
    const defs = topLevel(src, kind, keys);
    if (defs) doc[kind] = defs;
  }
  for (const [key, value] of Object.entries(src.raw.root))
    if (key.startsWith('x-') && key !== 'x-herd') doc[key] = value;
  for (const key of Object.keys(asMap(src.raw.root['x-herd']) ?? {}))
    src.report.dropped(`x-herd.${key}`, `herd's own ${key} settings do not apply to Swarm`);
  return escapeDollars(doc) as RawMap;
}

function reportHerd(src: ConvertSource, service: Service): void {
  const herd = rawPart(src, service.name, 'x-herd') ?? {};
  for (const key of Object.keys(herd)) {
    const where = at(service.name, 'x-herd', key);
    if (HERD_SERVICE_REASONS[key]) src.report.dropped(where, HERD_SERVICE_REASONS[key]);
    else if (key === 'heal_unhealthy' && herd[key] === false)
      src.report.dropped(where, 'Swarm always replaces an unhealthy task');
    else if (key === 'rollout' && rawPart(src, service.name, 'deploy', 'update_config'))
      src.report.dropped(where, 'deploy.update_config is given, and Swarm reads that');
  }
}

/** Top-level volumes, networks, secrets and configs: v3 keys kept, file paths made absolute (the
 * stack file may be read from another folder), the rest reported. */
function topLevel(src: ConvertSource, kind: string, keys: string[]): RawMap | undefined {
  const defs = asMap(src.raw.root[kind]);
  if (!defs) return undefined;
  const out: RawMap = {};
  for (const [name, def] of Object.entries(defs)) {
    if (name.startsWith('x-')) continue;
    const entry: RawMap = {};
    for (const [key, value] of Object.entries(asMap(def) ?? {})) {
      if (keys.includes(key) || key.startsWith('x-'))
        entry[key] =
          key === 'file' && typeof value === 'string'
            ? path.resolve(src.project.workingDir, value)
            : value;
      else src.report.dropped(`${kind}.${name}.${key}`, 'not part of the stack file format (v3)');
    }
    out[name] = entry;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Doubles every `$` in string values (keys are never interpolated). */
function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.split('$').join('$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}
