// `herd ps`: the project's replicas, as `docker compose ps` lists containers.
import { formatUpdates } from '../format/updates.ts';
import type { Command } from 'commander';
import type { PsResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { DaemonNotRevived } from '../../daemon/revive.ts';
import { HerdError, isHerdError } from '../../util/errors.ts';
import { formatAutoscaling } from '../format/autoscale.ts';
import { psJson, psTable, selectReplicas } from '../format/ps.ts';

interface PsOptions {
  all?: boolean;
  format: string;
  quiet?: boolean;
  endpoints?: boolean;
}

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description('list the replicas of the project')
    .argument('[services...]', 'only these services')
    .option('-a, --all', 'also show replicas that exited')
    .option('--format <format>', 'table or json (one JSON object per line)', 'table')
    .option('-q, --quiet', 'only print replica names')
    .option(
      '--endpoints',
      "add an ENDPOINT column: the replica's own address, where the balancer sends its traffic",
    )
    .addHelpText(
      'after',
      `
Columns: NAME, SERVICE, STATUS (e.g. "Up 5 minutes (healthy)", "Exited (137) 3 seconds ago",
"Restarting (1) 2 seconds ago", "Waiting (db healthy)"), RESTARTS, PORTS, PID, CPU %, MEM, and
with --endpoints ENDPOINT (127.0.0.1:<port>: the replica itself, bypassing the balancer; JSON
rows always carry it as "Endpoint").

Examples:
  $ herd ps
  $ herd ps -a web
  $ herd ps --format json | jq .Status`,
    )
    .action(async (services: string[], opts: PsOptions, cmd: Command) => {
      if (opts.format !== 'table' && opts.format !== 'json')
        throw new HerdError(`--format ${opts.format}: expected table or json`, 'INVALID_ARGUMENT');
      const { client, project } = await locateDaemon(cmd);
      // A project that is not running has no replicas: an empty list, as `docker compose ps`.
      // One whose daemon died leaves a record: the client waited for the daemon to come back,
      // and says what to do when it did not (DaemonNotRevived).
      const ps = await client.get<PsResponse>('/v1/ps').catch((err: unknown) => {
        if (!isHerdError(err, 'NO_DAEMON') || err instanceof DaemonNotRevived) throw err;
        return notRunning(project);
      });
      const unknown = services.filter((s) => !ps.services.some((x) => x.name === s));
      if (unknown.length && ps.services.length > 0)
        throw new HerdError(
          `no such service: ${unknown.join(', ')} (services: ${ps.services.map((s) => s.name).join(', ')})`,
          'NO_SUCH_SERVICE',
        );
      for (const w of ps.warnings ?? []) process.stderr.write(`herd: warning: ${w}\n`);
      const replicas = selectReplicas(ps, { all: Boolean(opts.all), services });
      if (opts.quiet) process.stdout.write(replicas.map((r) => r.name + '\n').join(''));
      else if (opts.format === 'json') process.stdout.write(psJson(ps, replicas));
      else process.stdout.write(psTable(ps, replicas, Boolean(opts.endpoints)));
      if (!opts.quiet && opts.format !== 'json') process.stdout.write(formatAutoscaling(ps));
      if (!opts.quiet && opts.format !== 'json') process.stdout.write(formatUpdates(ps, services));
    });
}

function notRunning(project: string): PsResponse {
  return { project, now: Date.now(), services: [], replicas: [] };
}
