// The `redis_list` targets' lengths, read for the autoscaler before each decision. The url's
// `${NAME_SERVICE_HOST}` / `${NAME_SERVICE_PORT}` are the address the balancer gives that service
// (the one its replicas are given), so a Redis run by the same stack needs no fixed port. A list
// that cannot be read becomes the reason it could not, for `herd events`; nothing here throws.
import { parseAutoscale } from '../compose/autoscale.ts';
import type { Project } from '../compose/model.ts';
import { fillServiceVariables, parseRedisUrl } from '../compose/redis-url.ts';
import type { QueueReading } from '../engine/autoscaler-queue.ts';
import { envName } from '../runtime/env.ts';
import { listLength, type RedisAddress } from '../util/redis-llen.ts';

/** Well over a loopback round trip, well under the one-second sampling interval. */
export const QUEUE_TIMEOUT_MS = 800;

export type ServiceAddresses = Record<string, { host: string; port: number }>;
type Read = (addr: RedisAddress, list: string, timeoutMs: number) => Promise<number>;

/** Each `redis_list` service's list length now (in parallel), or why it is unknown. */
export async function readQueues(
  project: Project,
  addresses: () => ServiceAddresses,
  read: Read = listLength,
): Promise<Record<string, QueueReading>> {
  const out: Record<string, QueueReading> = {};
  const reads = Object.values(project.services).map(async (service) => {
    const raw = service.herd.extra.autoscale;
    const target = raw === undefined ? undefined : parseAutoscale(service.name, raw)?.redisList;
    if (!target) return;
    try {
      const addr = resolve(project, target.url, addresses());
      out[service.name] = { length: await read(addr, target.list, QUEUE_TIMEOUT_MS) };
    } catch (err) {
      out[service.name] = { error: err instanceof Error ? err.message : String(err) };
    }
  });
  await Promise.all(reads);
  return out;
}

/** The address `url` names once its service variables are filled in. */
export function resolve(project: Project, url: string, addresses: ServiceAddresses): RedisAddress {
  const filled = fillServiceVariables(url, (name, what) => {
    const service = Object.keys(project.services).find((s) => envName(s) === name);
    if (service === undefined) throw new Error(`no service is called ${name.toLowerCase()}`);
    const a = addresses[service];
    if (!a)
      throw new Error(
        `service "${service}" has no address yet (it needs ports or expose, and herd must be running it)`,
      );
    if (what === 'PORT') return String(a.port);
    return a.host.includes(':') ? `[${a.host}]` : a.host;
  });
  const addr = parseRedisUrl(filled);
  if (typeof addr === 'string') throw new Error(`redis_list url ${addr}`);
  return addr;
}
