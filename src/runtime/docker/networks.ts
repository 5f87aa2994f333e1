// The networks a service's containers join: the ones its `networks:` names (with their aliases),
// else the project's default, as Compose attaches them. Declared networks are created with
// Compose's labels (so `down` removes them) and their `internal`/`driver`; external ones must exist.
import type Dockerode from 'dockerode';
import type { NetworkDef, Project, Service } from '../../compose/model.ts';
import { HerdError } from '../../util/errors.ts';
import { engineMessage } from './build.ts';
import { COMPOSE_NETWORK, projectLabels } from './labels.ts';

export interface Attachment {
  key: string;
  def: NetworkDef;
  aliases: string[];
}

export function defaultNetwork(project: string): NetworkDef {
  return { name: `${project}_default`, external: false, internal: false, labels: {} };
}

/** The service's networks in a stable order (the first one is the container's NetworkMode). */
export function attachments(project: Project, service: Service): Attachment[] {
  const wanted = service.networks ?? { default: { aliases: [] } };
  return Object.keys(wanted)
    .sort()
    .map((key) => ({
      key,
      def: project.networks?.[key] ?? defaultNetwork(project.name),
      aliases: wanted[key]?.aliases ?? [],
    }));
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

/** Creates the network unless it exists; an external one must exist already. */
export async function ensureNetwork(
  docker: Dockerode,
  project: string,
  key: string,
  def: NetworkDef,
): Promise<string> {
  const existing = await docker.listNetworks({ filters: { name: [def.name] } });
  if (existing.some((n) => n.Name === def.name)) return def.name;
  if (def.external)
    throw new HerdError(
      `network "${key}" is declared external, but Docker network ${def.name} does not exist; ` +
        `create it with: docker network create ${def.name}`,
    );
  try {
    await docker.createNetwork({
      Name: def.name,
      Driver: def.driver ?? 'bridge',
      Internal: def.internal,
      CheckDuplicate: true,
      Labels: { ...def.labels, ...projectLabels(project), [COMPOSE_NETWORK]: key },
    });
  } catch (err) {
    // Another start raced us to it: fine, it exists now.
    if (statusOf(err) !== 409)
      throw new HerdError(`could not create Docker network ${def.name}: ${engineMessage(err)}`);
  }
  return def.name;
}

/** Creates the container on its first network (older engines take one at create), then joins
 * the others before it starts. */
export async function createAttached(
  docker: Dockerode,
  create: Dockerode.ContainerCreateOptions,
): Promise<Dockerode.Container> {
  const endpoints = Object.entries(create.NetworkingConfig?.EndpointsConfig ?? {});
  const [first, ...rest] = endpoints;
  if (!first || rest.length === 0) return docker.createContainer(create);
  const container = await docker.createContainer({
    ...create,
    NetworkingConfig: { EndpointsConfig: { [first[0]]: first[1] } },
  });
  try {
    for (const [name, endpoint] of rest)
      await docker.getNetwork(name).connect({ Container: container.id, EndpointConfig: endpoint });
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw err;
  }
  return container;
}
