// `herd ls`: every project with a herd daemon this user can find, as `docker compose ls` lists
// projects: from any folder, through $HERD_STATE_DIR, the default state dirs and the registry
// (daemon/registry.ts) that records the others.
import type { Command } from 'commander';
import { join } from 'node:path';
import type { PsResponse } from '../../daemon/api-types.ts';
import { DaemonClient, probeSocket } from '../../daemon/client.ts';
import {
  defaultStateDirs,
  forgetStateDir,
  registeredProjects,
  type RegistryEntry,
} from '../../daemon/registry.ts';
import { HerdError } from '../../util/errors.ts';
import { composeState } from '../format/status.ts';
import { renderTable } from '../format/table.ts';

interface LsOptions {
  all?: boolean;
  format: string;
  quiet?: boolean;
}

export interface LsRow {
  Name: string;
  Status: string;
  ConfigFiles: string;
  /** Whether any replica runs (plain `ls` lists only those projects, as Compose does). */
  running: boolean;
}

export function registerLs(program: Command): void {
  program
    .command('ls')
    .description('list the projects that have a herd daemon')
    .option('-a, --all', 'also list projects with nothing running')
    .option('--format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'only print project names')
    .addHelpText(
      'after',
      `
Projects are found through $HERD_STATE_DIR, the state folder ($XDG_STATE_HOME/herd, else
~/.local/state/herd) and the registry there, where every daemon records its state dir — so
\`herd ls\` works from any folder. STATUS counts the replicas by state, as Compose does:
running(2), or exited(1), running(2).

Examples:
  $ herd ls
  $ herd ls -a --format json | jq -r '.[].Name'`,
    )
    .action(async (opts: LsOptions) => {
      if (opts.format !== 'table' && opts.format !== 'json')
        throw new HerdError(`--format ${opts.format}: expected table or json`, 'INVALID_ARGUMENT');
      const rows = (await listProjects()).filter((r) => opts.all || r.running);
      if (opts.quiet) process.stdout.write(rows.map((r) => `${r.Name}\n`).join(''));
      else if (opts.format === 'json')
        process.stdout.write(
          JSON.stringify(
            rows.map(({ Name, Status, ConfigFiles }) => ({ Name, Status, ConfigFiles })),
          ) + '\n',
        );
      else
        process.stdout.write(
          renderTable(
            ['NAME', 'STATUS', 'CONFIG FILES'],
            rows.map((r) => [r.Name, r.Status, r.ConfigFiles]),
          ),
        );
    });
}

/** Every project a daemon answers for, sorted by name. */
export async function listProjects(
  env: Record<string, string | undefined> = process.env,
): Promise<LsRow[]> {
  const registry = registeredProjects(env);
  const dirs = new Set([
    ...(env.HERD_STATE_DIR ? [env.HERD_STATE_DIR] : []),
    ...registry.map((e) => e.stateDir),
    ...defaultStateDirs(env),
  ]);
  const rows = await Promise.all(
    [...dirs].map(async (d) => {
      const row = await projectIn(d, registry).catch(() => undefined);
      if (row === null) forgetStateDir(d, env);
      return row ?? undefined;
    }),
  );
  return rows
    .filter((r): r is LsRow => r !== undefined)
    .sort((a, b) => a.Name.localeCompare(b.Name));
}

/** The project whose daemon answers in `stateDir`; null when none does. */
async function projectIn(stateDir: string, registry: RegistryEntry[]): Promise<LsRow | null> {
  const socket = join(stateDir, 'herd.sock');
  const ping = await probeSocket(socket);
  if (!ping) return null;
  const ps = await new DaemonClient(socket, ping.project).get<PsResponse>('/v1/ps');
  const entry = registry.find((e) => e.stateDir === stateDir && e.project === ping.project);
  const counts = new Map<string, number>();
  for (const r of ps.replicas) {
    const state = composeState(r);
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return {
    Name: ping.project,
    Status: [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}(${n})`)
      .join(', '),
    ConfigFiles: (entry?.configFiles ?? []).join(','),
    running: (counts.get('running') ?? 0) > 0,
  };
}
