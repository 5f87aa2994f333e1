// `herd events`: the engine's events as they happen (replica state, readiness, scaling).
import type { Command } from 'commander';
import { locateDaemon } from '../../daemon/locate.ts';
import type { EngineEvent } from '../../engine/events.ts';
import { formatEvent } from '../format/events.ts';

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('stream replica events (started, ready, exited, scaled…) until Ctrl-C')
    .option('--json', 'one JSON object per line')
    .addHelpText(
      'after',
      `
Examples:
  $ herd events
  $ herd events --json | jq 'select(.type == "scaled")'`,
    )
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { client } = await locateDaemon(cmd);
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      try {
        await client.stream<EngineEvent>(
          '/v1/events',
          (e) => process.stdout.write(opts.json ? JSON.stringify(e) + '\n' : formatEvent(e)),
          ac.signal,
        );
      } finally {
        process.off('SIGINT', stop);
      }
    });
}
