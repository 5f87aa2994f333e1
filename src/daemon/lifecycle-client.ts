// The client side of stop/start/restart/kill: post the services to the daemon, report each replica.
import type { Command } from 'commander';
import type { ServicesResponse } from './api-types.ts';
import { HerdError } from '../util/errors.ts';
import { locateDaemon } from './locate.ts';

/** `-t/--timeout SECONDS` of stop, restart and down, as docker compose reads it. */
export const TIMEOUT_FLAG = '-t, --timeout <seconds>';
export const TIMEOUT_HELP =
  "seconds to wait before SIGKILL, instead of each service's stop_grace_period";

/** `-t 5` → { timeout: 5 } for the request body; nothing when the flag was not given. */
export function timeoutBody(value: string | undefined): { timeout?: number } {
  if (value === undefined) return {};
  if (!/^\d+$/.test(value))
    throw new HerdError(
      `--timeout ${value}: expected a whole number of seconds ≥ 0, e.g. -t 5`,
      'INVALID_ARGUMENT',
    );
  return { timeout: Number(value) };
}

export async function postLifecycle(
  cmd: Command,
  verb: 'stop' | 'start' | 'restart' | 'kill' | 'pause' | 'unpause',
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
