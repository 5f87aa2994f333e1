// `herd kill`: send a signal to every replica of the services (SIGKILL by default).
import type { Command } from 'commander';
import { postLifecycle } from '../../daemon/lifecycle-client.ts';

export function registerKill(program: Command): void {
  program
    .command('kill')
    .description('send a signal to the replicas of services, right away')
    .argument('[services...]', 'services to signal (default: all)')
    .option('-s, --signal <signal>', 'signal to send (name or number)', 'SIGKILL')
    .addHelpText(
      'after',
      `
The restart policy applies to replicas that exit, as for any other exit.

Examples:
  $ herd kill web
  $ herd kill -s HUP nginx`,
    )
    .action((services: string[], opts: { signal: string }, cmd: Command) =>
      postLifecycle(cmd, 'kill', services, 'Killed', { signal: opts.signal }),
    );
}
