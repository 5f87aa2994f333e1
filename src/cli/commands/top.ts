// `herd top`: CPU %, memory and processes of each running replica, refreshed until Ctrl-C.
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PsResponse, TopResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { HerdError } from '../../util/errors.ts';
import { fitWidth, topFrame } from '../format/top.ts';

interface TopOptions {
  /** undefined: stream when stdout is a terminal; --stream / --no-stream force either way. */
  stream?: boolean;
  interval: string;
}

/** Clear the screen and go home, as `docker stats` does between frames. */
const CLEAR = '\x1b[2J\x1b[H';

/** Below this a frame would hammer the daemon (each one samples /proc for every replica). */
export const MIN_INTERVAL_S = 0.1;
/** An hour: far below the ~24.8-day limit of Node timers, and already pointless for a live view. */
export const MAX_INTERVAL_S = 3600;

export function parseInterval(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0)
    throw new HerdError(
      `--interval ${text}: expected a number of seconds > 0, e.g. 2 or 0.5`,
      'INVALID_ARGUMENT',
    );
  if (seconds < MIN_INTERVAL_S || seconds > MAX_INTERVAL_S)
    throw new HerdError(
      `--interval ${text}: must be between ${MIN_INTERVAL_S} and ${MAX_INTERVAL_S} seconds, e.g. 2 or 0.5`,
      'INVALID_ARGUMENT',
    );
  return Math.round(seconds * 1000);
}

export function registerTop(program: Command): void {
  program
    .command('top')
    .description('live CPU %, memory and processes of each replica (one frame with --no-stream)')
    .argument('[services...]', 'only these services')
    // --stream first: defined after it, --no-stream does not default `stream` to true.
    .option('--stream', 'keep refreshing even when stdout is not a terminal')
    .option('--no-stream', 'print one frame and exit (the one-shot `docker compose top` form)')
    .option('-i, --interval <seconds>', 'seconds between frames (0.1 to 3600)', '2')
    .addHelpText(
      'after',
      `
Each frame is a table of the replicas (NAME, SERVICE, CPU %, MEM, PIDS), then every process of
each replica (UID, PID, PPID, STAT, RSS, TIME, CMD): a replica runs as its own process group
(a container: its init's group), and CPU % and MEM sum the whole group. CPU % is measured over
the time since the previous frame (100% = one core fully busy); a first frame, or a frame more
than 10 s after the previous one, measures a fresh 0.2 s window.

On a terminal, herd top clears the screen and redraws every --interval seconds until Ctrl-C.
When stdout is not a terminal (a pipe, a file, a script) it prints one frame and exits, unless
--stream is given: frames are then printed one after another, separated by a blank line.

Examples:
  $ herd top                      # live, refreshed every 2 s until Ctrl-C
  $ herd top -i 5 web             # only web's replicas, every 5 s
  $ herd top --no-stream          # one frame, like \`docker compose top\`
  $ herd top --stream | grep web  # keep streaming into a pipe`,
    )
    .action(async (services: string[], opts: TopOptions, cmd: Command) => {
      const intervalMs = parseInterval(opts.interval);
      const tty = Boolean(process.stdout.isTTY);
      const stream = opts.stream ?? tty;
      const { client, project } = await locateDaemon(cmd);
      if (services.length > 0) {
        // The top answer lists only live replicas: ask ps which services the project has.
        const known = (await client.get<PsResponse>('/v1/ps')).services.map((s) => s.name);
        const unknown = services.filter((s) => !known.includes(s));
        if (unknown.length)
          throw new HerdError(
            `no such service: ${unknown.join(', ')} (services: ${known.join(', ')})`,
            'NO_SUCH_SERVICE',
          );
      }
      const frame = async (): Promise<string> => {
        const top = await client.get<TopResponse>('/v1/top');
        return topFrame(
          top.replicas.filter((r) => services.length === 0 || services.includes(r.service)),
        );
      };
      if (!stream) {
        process.stdout.write(await frame());
        return;
      }

      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      // The reader went away (`herd top --stream | head`): stop quietly.
      process.stdout.on('error', stop);
      try {
        for (let n = 0; !ac.signal.aborted; n++) {
          const started = Date.now();
          const text = await frame();
          if (ac.signal.aborted) break;
          if (tty) {
            const at = new Date().toLocaleTimeString();
            const head = `herd top - ${project} - ${at} - every ${opts.interval}s, Ctrl-C to quit\n\n`;
            process.stdout.write(CLEAR + fitWidth(head + text, process.stdout.columns));
          } else process.stdout.write((n > 0 ? '\n' : '') + text);
          await sleep(Math.max(0, intervalMs - (Date.now() - started)), undefined, {
            signal: ac.signal,
          }).catch(() => undefined);
        }
      } finally {
        process.off('SIGINT', stop);
        process.stdout.off('error', stop);
      }
    });
}
