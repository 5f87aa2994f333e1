// The per-project things containers share: named volumes (networks: networks.ts),
// plus finding and removing everything herd created for a project.
import type Dockerode from 'dockerode';
import type { Project } from '../../compose/model.ts';
import { HerdError } from '../../util/errors.ts';
import { volumeEngineName } from './create-options.ts';
import {
  COMPOSE_NUMBER,
  COMPOSE_SERVICE,
  COMPOSE_VOLUME,
  HERD_PROJECT,
  projectFilter,
  projectLabels,
} from './labels.ts';

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** Creates the named volume `key` of the project unless it exists; external ones must exist. */
export async function ensureNamedVolume(
  docker: Dockerode,
  project: Project,
  key: string,
): Promise<string> {
  const name = volumeEngineName(project, key);
  const declared = project.volumes[key];
  try {
    await docker.getVolume(name).inspect();
    return name;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  if (declared?.external) {
    throw new HerdError(
      `volume "${key}" is declared external, but Docker volume ${name} does not exist; ` +
        `create it with: docker volume create ${name}`,
    );
  }
  await docker.createVolume({
    Name: name,
    Driver: declared?.driver ?? 'local',
    Labels: { ...(declared?.labels ?? {}), ...projectLabels(project.name), [COMPOSE_VOLUME]: key },
  });
  return name;
}

export interface ContainerSummary {
  id: string;
  name: string;
  service: string;
  index: number;
  state: string;
  image: string;
}

/** herd's containers of `project`, running or not (for adoption and cleanup). */
export async function listProjectContainers(
  docker: Dockerode,
  project: string,
): Promise<ContainerSummary[]> {
  const found = await docker.listContainers({ all: true, filters: projectFilter(project) });
  return found
    .filter((c) => c.Labels[HERD_PROJECT] === project)
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      service: c.Labels[COMPOSE_SERVICE] ?? '',
      index: Number(c.Labels[COMPOSE_NUMBER] ?? 0),
      state: c.State,
      image: c.Image,
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.index - b.index);
}

/** Removes the project's containers (forcibly), its networks and, when asked, its named volumes. */
export async function removeProjectResources(
  docker: Dockerode,
  project: string,
  opts: { volumes?: boolean } = {},
): Promise<{ containers: number; networks: number; volumes: number }> {
  const containers = await listProjectContainers(docker, project);
  await Promise.all(containers.map((c) => removeContainer(docker, c.id)));
  const networks = await docker.listNetworks({ filters: projectFilter(project) });
  for (const n of networks) {
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
  }
  let volumes = 0;
  if (opts.volumes) {
    const listed = await docker.listVolumes({ filters: projectFilter(project) });
    for (const v of listed.Volumes ?? []) {
      await docker
        .getVolume(v.Name)
        .remove()
        .catch((err: unknown) => {
          if (statusOf(err) !== 404) throw err;
        });
      volumes++;
    }
  }
  return { containers: containers.length, networks: networks.length, volumes };
}

/** Removes a container, also when a removal is already under way (a replica herd just stopped):
 * then it waits for that one, since the network cannot go while the container is attached. */
async function removeContainer(docker: Dockerode, id: string): Promise<void> {
  const container = docker.getContainer(id);
  try {
    await container.remove({ force: true, v: true });
    return;
  } catch (err) {
    if (statusOf(err) === 404) return;
    if (statusOf(err) !== 409) throw err;
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      await container.inspect();
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new HerdError(`Docker did not finish removing container ${id.slice(0, 12)} within 30 s`);
}
