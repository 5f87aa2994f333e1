// `herd logs`: stored output of the replicas, optionally followed live.
import type { Command } from 'commander';
import { locateDaemon } from '../../daemon/locate.ts';
import { existsSync } from 'node:fs';
import type { PsResponse } from '../../daemon/api-types.ts';
import { probeSocket } from '../../daemon/client.ts';
import type { LogEntry, LogQuery } from '../../logs/record.ts';
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
      const query = logQuery(services, opts);
      const { client, paths, project } = await locateDaemon(cmd);
      const printer = new EntryPrinter(opts);
      if (!opts.follow && !(await probeSocket(paths.socket)) && existsSync(paths.logsDir)) {
        // The logs outlive a killed daemon: read the files directly (they end when it died).
        printer.printAll(new LogStore(paths.logsDir, project).read(query));
        return;
      }
      const params = queryParams(query, Boolean(opts.follow));
      if (!opts.follow) {
        const entries: LogEntry[] = [];
        await client.stream<LogEntry>(`/v1/logs?${params}`, (e) => entries.push(e));
        printer.printAll(entries);
        return;
      }
      // Names are padded to the longest one, known up front except for replicas started later.
      const ps = await client.get<PsResponse>('/v1/ps');
      printer.widen(ps.replicas);
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      try {
        await client.stream<LogEntry>(`/v1/logs?${params}`, (e) => printer.print(e), ac.signal);
      } finally {
        process.off('SIGINT', stop);
      }
    });
}

/** The services, --tail and --since asked for, checked. */
function logQuery(services: string[], opts: LogsOptions): LogQuery {
  const query: LogQuery = { services: services.length ? services : undefined };
  if (opts.tail !== 'all') {
    if (!/^\d+$/.test(opts.tail))
      throw new HerdError(
        `--tail ${opts.tail}: expected a whole number or "all"`,
        'INVALID_ARGUMENT',
      );
    query.tail = Number(opts.tail);
  }
  if (opts.since !== undefined) query.since = sinceOf(opts.since);
  return query;
}

/** --since as epoch ms. */
function sinceOf(text: string): number {
  const since = parseSince(text, Date.now());
  if (since === undefined)
    throw new HerdError(
      `--since ${text}: expected a timestamp (2024-01-02T13:00:00Z), Unix seconds or a duration (10m)`,
      'INVALID_ARGUMENT',
    );
  if (since < 0)
    throw new HerdError(
      `--since ${text}: that is before 1970-01-01T00:00:00Z, the earliest time herd ` +
        'can ask for; give a shorter duration or a later time (omit --since for all output)',
      'INVALID_ARGUMENT',
    );
  if (!Number.isSafeInteger(since))
    throw new HerdError(
      `--since ${text}: out of range (too far in the future); give a timestamp (2024-01-02T13:00:00Z), Unix seconds or a duration (10m)`,
      'INVALID_ARGUMENT',
    );
  return since;
}

/** The query as the daemon's `GET /v1/logs` reads it. */
function queryParams(query: LogQuery, follow: boolean): URLSearchParams {
  const params = new URLSearchParams();
  if (query.tail !== undefined) params.set('tail', String(query.tail));
  if (query.since !== undefined) params.set('since', String(query.since));
  if (query.services) params.set('services', query.services.join(','));
  if (follow) params.set('follow', '1');
  return params;
}

/** Prints entries with their labels padded to the widest seen so far. */
class EntryPrinter {
  private width = 0;
  private readonly color: boolean;

  constructor(private readonly opts: LogsOptions) {
    this.color = opts.color && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  }

  widen(named: { service: string; name: string }[]): void {
    this.width = Math.max(this.width, 0, ...named.map((e) => logLabel(e).length));
  }

  /** A whole answer at once: padded to its longest label. */
  printAll(entries: LogEntry[]): void {
    this.widen(entries);
    for (const e of entries) this.print(e);
  }

  print(e: LogEntry): void {
    this.width = Math.max(this.width, logLabel(e).length);
    process.stdout.write(
      formatLogLine(e, {
        prefix: this.opts.logPrefix,
        timestamps: Boolean(this.opts.timestamps),
        color: this.color,
        width: this.width,
      }),
    );
  }
}
