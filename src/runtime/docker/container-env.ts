// The environment a container starts with. Unlike a local process it does not inherit herd's own
// environment (the image's ENV provides PATH, HOME, …), and the addresses it is given must be
// reachable from inside the container, not from the host:
// - a service that runs in Docker is reached on the project network by its service name (each
//   container has it as a network alias, so Docker's DNS resolves it) at its first target port;
// - a service that runs as a local process is reached through herd's balancer on its published
//   port, via `host.docker.internal` (mapped to the host's gateway); one that only has `expose`
//   listens on the host's loopback, which no container can reach, so it gets no variables.
import type { Project, Service } from '../../compose/model.ts';
import { runtimeKind } from '../../compose/runtime-kind.ts';

/** The name containers use for the host (Docker Desktop's; added with `host-gateway`). */
export const HOST_ALIAS = 'host.docker.internal';

/** Target ports a replica listens on, in declaration order: ports first, then expose. */
function targets(service: Service): number[] {
  return [
    ...new Set([...service.ports.map((p) => p.target), ...service.expose.map((e) => e.port)]),
  ];
}

/** What `<NAME>_SERVICE_HOST/PORT` say inside a container, for every service that has a port. */
export function containerServiceAddresses(
  project: Project,
): Record<string, { host: string; port: number }> {
  const out: Record<string, { host: string; port: number }> = {};
  for (const s of Object.values(project.services)) {
    if (runtimeKind(s) === 'docker') {
      const first = targets(s)[0];
      if (first !== undefined) out[s.name] = { host: s.name, port: first };
      continue;
    }
    // A single published port on all interfaces is herd's balancer, reachable from the bridge.
    const published = s.ports.find(
      (p) =>
        p.protocol === 'tcp' &&
        p.published !== undefined &&
        p.published.start === p.published.end &&
        (p.hostIp === undefined || p.hostIp === '0.0.0.0' || p.hostIp === '::'),
    );
    if (published?.published) out[s.name] = { host: HOST_ALIAS, port: published.published.start };
  }
  return out;
}

/** True when some address above points at the host, so the container needs the host alias. */
export function needsHostAlias(project: Project): boolean {
  return Object.values(containerServiceAddresses(project)).some((a) => a.host === HOST_ALIAS);
}
