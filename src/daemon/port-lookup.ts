// Which host address reaches a service's private port — shared by `herd port` and `herd ps`.
import type { Service } from '../compose/model.ts';
import type { ReplicaInfo } from '../engine/events.ts';

export type Protocol = 'tcp' | 'udp';

/** The public address for `port`: the published port through herd's balancer when the service
 * publishes it, else the replica's own host port. Undefined when nothing on the host maps it —
 * an index that names no replica (beyond 1, which a balanced port answers even at scale 0), or a
 * UDP port the file does not publish (replicas' own host ports are TCP only). */
export function lookupPort(
  service: Pick<Service, 'ports'>,
  replicas: ReplicaInfo[],
  privatePort: number,
  protocol: Protocol = 'tcp',
  index = 1,
): string | undefined {
  if (!Number.isSafeInteger(index) || index < 1) return undefined;
  if (index > 1 && !replicas.some((r) => r.index === index && r.state !== 'removed'))
    return undefined;
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
  if (protocol !== 'tcp') return undefined;
  const replica = replicas.find((r) => r.index === index);
  const hostPort = replica?.ports[privatePort];
  if (!replica || hostPort === undefined) return undefined;
  return `${replica.host}:${hostPort}`;
}
