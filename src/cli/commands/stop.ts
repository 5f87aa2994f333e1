// `herd stop`: stop services gracefully; they stay stopped until `herd start`.
import type { Command } from 'commander';
import { postLifecycle } from '../../daemon/lifecycle-client.ts';

export function registerStop(program: Command): void {
  program
    .command('stop')
    .description(
      'stop services gracefully (drain, stop signal, then SIGKILL after the grace period)',
    )
    .argument('[services...]', 'services to stop (default: all)')
    .addHelpText(
      'after',
      `
Stopped services keep their scale and stay stopped until \`herd start\`; the daemon keeps running.

Examples:
  $ herd stop
  $ herd stop worker`,
    )
    .action((services: string[], _o: unknown, cmd: Command) =>
      postLifecycle(cmd, 'stop', services, 'Stopped'),
    );
}
