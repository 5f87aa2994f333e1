// `herd start`: start services that were stopped, at their desired scale.
import type { Command } from 'commander';
import { postLifecycle } from '../../daemon/lifecycle-client.ts';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start stopped services again')
    .argument('[services...]', 'services to start (default: all)')
    .addHelpText(
      'after',
      `
Needs a running daemon (\`herd up -d\`); it starts the services' replicas in dependency order.

Examples:
  $ herd start
  $ herd start worker`,
    )
    .action((services: string[], _o: unknown, cmd: Command) =>
      postLifecycle(cmd, 'start', services, 'Started'),
    );
}
