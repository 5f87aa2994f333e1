// `herd stop`: stop services gracefully; they stay stopped until `herd start`.
import type { Command } from 'commander';
import {
  postLifecycle,
  TIMEOUT_FLAG,
  TIMEOUT_HELP,
  timeoutBody,
} from '../../daemon/lifecycle-client.ts';

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description(
      'stop services gracefully (drain, stop signal, then SIGKILL after the grace period)',
    )
    .argument('[services...]', 'services to stop (default: all)')
    .option(TIMEOUT_FLAG, TIMEOUT_HELP)
    .addHelpText(
      'after',
      `
Stopped services keep their scale and stay stopped until \`herd start\`; the daemon keeps running.

Examples:
  $ herd stop
  $ herd stop worker
  $ herd stop -t 2 web             # SIGKILL after 2 s instead of stop_grace_period`,
    )
    .action((services: string[], o: { timeout?: string }, cmd: Command) =>
      postLifecycle(cmd, 'stop', services, 'Stopped', timeoutBody(o.timeout)),
    );
}
