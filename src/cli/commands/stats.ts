// `herd stats`: CPU, memory and process count of each running replica, as `docker stats` shows
// containers: refreshed every 2 s until Ctrl-C, or one sample with --no-stream.
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TopReplica, TopResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { HerdError } from '../../util/errors.ts';
import { topSummary } from '../format/top.ts';
import { formatBytes, formatPercent } from '../format/units.ts';

const INTERVAL_MS = 2000;
/** Clear the screen and go home between frames, as `docker stats` does on a terminal. */
const CLEAR = '\x1b[2J\x1b[H';

interface StatsOptions {
  stream: boolean;
  format: string;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('live CPU %, memory and process count of each replica')
    .argument('[services...]', 'only these services')
    .option('--no-stream', 'print one sample and exit')
    .option('--format <format>', 'table or json (one object per line)', 'table')
    .addHelpText(
      'after',
      `
CPU % sums the replica's whole process group (100% = one core); MEM is its resident memory.

Examples:
  $ herd stats                     # refreshed every 2 s until Ctrl-C
  $ herd stats --no-stream web
  $ herd stats --no-stream --format json | jq .CPUPerc`,
    )
    .action(async (services: string[], opts: StatsOptions, cmd: Command) => {
      if (opts.format !== 'table' && opts.format !== 'json')
        throw new HerdError(`--format ${opts.format}: expected table or json`, 'INVALID_ARGUMENT');
      const { client } = await locateDaemon(cmd);
      const sample = async () =>
        (await client.get<TopResponse>('/v1/top')).replicas.filter(
          (r) => services.length === 0 || services.includes(r.service),
        );
      const render = (rows: TopReplica[]) =>
        opts.format === 'json' ? statsJson(rows) : statsTable(rows);
      if (!opts.stream) {
        process.stdout.write(render(await sample()));
        return;
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      try {
        while (!ac.signal.aborted) {
          const text = render(await sample());
          process.stdout.write(
            process.stdout.isTTY && opts.format === 'table' ? CLEAR + text : text,
          );
          await sleep(INTERVAL_MS, undefined, { signal: ac.signal }).catch(() => undefined);
        }
      } finally {
        process.off('SIGINT', stop);
      }
    });
}

function statsTable(rows: TopReplica[]): string {
  return topSummary(rows, { memHeader: 'MEM USAGE', unknown: '' });
}

function statsJson(rows: TopReplica[]): string {
  return rows
    .map(
      (r) =>
        JSON.stringify({
          Name: r.name,
          Service: r.service,
          CPUPerc: r.cpuPercent !== undefined ? formatPercent(r.cpuPercent) : '',
          MemUsage: r.memBytes !== undefined ? formatBytes(r.memBytes) : '',
          MemBytes: r.memBytes ?? null,
          PIDs: r.processes.length,
        }) + '\n',
    )
    .join('');
}
