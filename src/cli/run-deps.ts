// What `herd run` needs from the project's daemon: its dependencies running, and the addresses
// of the services (`<NAME>_SERVICE_HOST/PORT`) its replicas are given.
import type { Project } from '../compose/model.ts';
import type { PsResponse } from '../daemon/api-types.ts';
import type { ExecTarget } from '../daemon/api-types.ts';
import { DaemonClient } from '../daemon/client.ts';
import type { ProjectFlags } from '../daemon/locate.ts';
import { pathsFor } from '../daemon/paths.ts';
import { envName, type ServiceAddresses } from '../runtime/env.ts';
import { isHerdError } from '../util/errors.ts';
import { daemonRunning, startInBackground, updateRunning } from './up/detached.ts';
import { globalArgs } from './up/options.ts';

/** Every service `service` depends on, directly or not. */
export function dependenciesOf(project: Project, service: string): string[] {
  const seen = new Set<string>();
  const queue = [service];
  while (queue.length > 0) {
    for (const d of Object.keys(project.services[queue.pop()!]?.dependsOn ?? {}))
      if (!seen.has(d) && d !== service) {
        seen.add(d);
        queue.push(d);
      }
  }
  return [...seen];
}

/** Starts the dependencies as `herd up -d --wait DEP…` would, reporting on stderr (stdout is the
 * one-off's). */
export async function startDependencies(
  project: Project,
  service: string,
  flags: ProjectFlags,
): Promise<void> {
  const services = dependenciesOf(project, service);
  if (services.length === 0) return;
  const req = {
    project,
    services,
    scale: {},
    scaleArgs: [],
    global: globalArgs(flags),
    wait: true,
    build: false,
  };
  const write = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof write;
  try {
    if (await daemonRunning(project)) await updateRunning(req);
    else await startInBackground(req);
  } finally {
    process.stdout.write = write;
  }
}

/** The service addresses the project's replicas get, as a running replica was given them
 * (they are the balancer's stable listeners); none when nothing runs. */
export async function dependencyEnv(project: Project): Promise<ServiceAddresses> {
  const client = new DaemonClient(pathsFor(project.name).socket, project.name);
  const env = await client
    .get<PsResponse>('/v1/ps')
    .then(async (ps) => {
      const r = ps.replicas.find((x) => x.state === 'running' && x.pid !== undefined);
      if (!r) return {};
      const q = new URLSearchParams({ service: r.service, index: String(r.index) });
      return (await client.get<ExecTarget>(`/v1/exec-target?${q}`)).env;
    })
    .catch((err: unknown) => {
      if (isHerdError(err, 'NO_DAEMON')) return {} as Record<string, string>;
      throw err;
    });
  const addresses: Record<string, { host: string; port: number }> = {};
  for (const name of Object.keys(project.services)) {
    const key = envName(name);
    const host = env[`${key}_SERVICE_HOST`];
    const port = Number(env[`${key}_SERVICE_PORT`]);
    if (host && Number.isInteger(port)) addresses[name] = { host, port };
  }
  return () => addresses;
}
