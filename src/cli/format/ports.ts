// The PORTS column: "0.0.0.0:8080->5000/tcp, 127.0.0.1:41234->6000/tcp, 9000/tcp".
import type { ExposeSpec, PortSpec } from '../../compose/model.ts';
import type { ReplicaInfo } from '../../engine/events.ts';

function hostPart(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

export function formatPorts(
  service: { ports: PortSpec[]; expose: ExposeSpec[] },
  replica: Pick<ReplicaInfo, 'host' | 'ports' | 'index'>,
): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of service.ports) {
    const key = `${p.target}/${p.protocol}`;
    if (p.published) {
      const { start, end } = p.published;
      // A range gives each replica its own port, in index order.
      const port = end > start ? start + replica.index - 1 : start;
      out.push(`${hostPart(p.hostIp ?? '0.0.0.0', port)}->${key}`);
    } else {
      const hostPort = replica.ports[p.target];
      out.push(hostPort !== undefined ? `${hostPart(replica.host, hostPort)}->${key}` : key);
    }
    seen.add(key);
  }
  for (const e of service.expose) {
    const key = `${e.port}/${e.protocol}`;
    if (!seen.has(key)) out.push(key);
    seen.add(key);
  }
  return out.join(', ');
}
