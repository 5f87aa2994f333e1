// `herd logs`: stored output of the replicas, optionally followed live.
import type { Command } from 'commander';
import { locateDaemon } from '../../daemon/locate.ts';
import { existsSync } from 'node:fs';
import type { PsResponse } from '../../daemon/api-types.ts';
import { probeSocket } from '../../daemon/client.ts';
import type { LogEntry } from '../../logs/record.ts';
import { LogStore } from '../../logs/store.ts';
import { HerdError } from '../../util/errors.ts';
import { formatLogLine, logLabel, parseSince } from '../format/logs.ts';

interface LogsOptions {
  follow?: boolean;
  tail: string;
  since?: string;
  timestamps?: boolean;
  logPrefix: boolean;
  color: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('show the output of the replicas')
    .argument('[services...]', 'only these services')
    .option('-f, --follow', 'keep printing new output (also from replicas started later)')
    .option('-n, --tail <n>', 'lines to show from the end of each replica\'s log, or "all"', 'all')
    .option(
      '--since <time>',
      'only output since a time (2024-01-02T13:00:00Z, Unix seconds) or a duration ago (42m, 1h30m)',
    )
    .option('-t, --timestamps', 'show timestamps')
    .option('--no-log-prefix', 'do not prefix lines with the replica name')
    .option('--no-color', 'plain output without colours')
    .addHelpText(
      'after',
      `
Without a running daemon, the stored logs of the last run are shown (not with -f).

Examples:
  $ herd logs web
  $ herd logs -f --tail 20
  $ herd logs --since 10m -t worker`,
    )
    .action(async (services: string[], opts: LogsOptions, cmd: Command) => {
      const params = new URLSearchParams();
      if (opts.tail !== 'all') {
        if (!/^\d+$/.test(opts.tail))
          throw new HerdError(
            `--tail ${opts.tail}: expected a whole number or "all"`,
            'INVALID_ARGUMENT',
          );
        params.set('tail', opts.tail);
      }
      if (opts.since !== undefined) {
        const since = parseSince(opts.since, Date.now());
        if (since === undefined)
          throw new HerdError(
            `--since ${opts.since}: expected a timestamp (2024-01-02T13:00:00Z), Unix seconds or a duration (10m)`,
            'INVALID_ARGUMENT',
          );
        if (since < 0)
          throw new HerdError(
            `--since ${opts.since}: that is before 1970-01-01T00:00:00Z, the earliest time herd ` +
              'can ask for; give a shorter duration or a later time (omit --since for all output)',
            'INVALID_ARGUMENT',
          );
        if (!Number.isSafeInteger(since))
          throw new HerdError(
            `--since ${opts.since}: out of range (too far in the future); give a timestamp (2024-01-02T13:00:00Z), Unix seconds or a duration (10m)`,
            'INVALID_ARGUMENT',
          );
        params.set('since', String(since));
      }
      if (services.length) params.set('services', services.join(','));
      if (opts.follow) params.set('follow', '1');
      const { client, paths, project } = await locateDaemon(cmd);
      const color = opts.color && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      // Names are padded to the longest one, known up front except for replicas started later.
      let width = 0;
      const print = (e: LogEntry) => {
        width = Math.max(width, logLabel(e).length);
        process.stdout.write(
          formatLogLine(e, {
            prefix: opts.logPrefix,
            timestamps: Boolean(opts.timestamps),
            color,
            width,
          }),
        );
      };
      if (!opts.follow && !(await probeSocket(paths.socket)) && existsSync(paths.logsDir)) {
        // The logs outlive a killed daemon: read the files directly (they end when it died).
        const store = new LogStore(paths.logsDir, project);
        const entries = store.read({
          services: services.length ? services : undefined,
          tail: params.has('tail') ? Number(params.get('tail')) : undefined,
          since: params.has('since') ? Number(params.get('since')) : undefined,
        });
        width = Math.max(0, ...entries.map((e) => logLabel(e).length));
        for (const e of entries) print(e);
        return;
      }
      if (!opts.follow) {
        const entries: LogEntry[] = [];
        await client.stream<LogEntry>(`/v1/logs?${params}`, (e) => entries.push(e));
        width = Math.max(0, ...entries.map((e) => logLabel(e).length));
        for (const e of entries) print(e);
        return;
      }
      const ps = await client.get<PsResponse>('/v1/ps');
      width = Math.max(0, ...ps.replicas.map((r) => logLabel(r).length));
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      try {
        await client.stream<LogEntry>(`/v1/logs?${params}`, print, ac.signal);
      } finally {
        process.off('SIGINT', stop);
      }
    });
}
