// Which host address reaches a service's private port — shared by `herd port` and `herd ps`.
import type { Service } from '../compose/model.ts';
import type { ReplicaInfo } from '../engine/events.ts';

export type Protocol = 'tcp' | 'udp';

/** The public address for `port`: the published port through herd's balancer when the service
 * publishes it, else the replica's own host port. Undefined when nothing on the host maps it. */
export function lookupPort(
  service: Pick<Service, 'ports'>,
  replicas: ReplicaInfo[],
  privatePort: number,
  protocol: Protocol = 'tcp',
  index = 1,
): string | undefined {
  const spec = service.ports.find((p) => p.target === privatePort && p.protocol === protocol);
  if (spec?.published) {
    const ip = spec.hostIp ?? '0.0.0.0';
    // A published range gives each replica its own port, in index order.
    const port =
      spec.published.end > spec.published.start
        ? spec.published.start + index - 1
        : spec.published.start;
    if (port > spec.published.end) return undefined;
    return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
  }
  const replica = replicas.find((r) => r.index === index);
  const hostPort = replica?.ports[privatePort];
  if (!replica || hostPort === undefined) return undefined;
  return `${replica.host}:${hostPort}`;
}
