// The client side of stop/start/restart/kill: post the services to the daemon, report each replica.
import type { Command } from 'commander';
import type { ServicesResponse } from './api-types.ts';
import { locateDaemon } from './locate.ts';

export async function postLifecycle(
  cmd: Command,
  verb: 'stop' | 'start' | 'restart' | 'kill',
  services: string[],
  done: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const { client } = await locateDaemon(cmd);
  const r = await client.post<ServicesResponse>(`/v1/${verb}`, {
    services: services.length ? services : undefined,
    ...extra,
  });
  const names = r.replicas.length ? r.replicas : r.services;
  const width = Math.max(0, ...names.map((n) => n.length));
  for (const n of names) process.stdout.write(` ✔ ${n.padEnd(width)}  ${done}\n`);
}
