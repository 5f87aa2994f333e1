// `herd restart`: rolling restart — one replica at a time, each replaced once its successor is ready.
import type { Command } from 'commander';
import {
  postLifecycle,
  TIMEOUT_FLAG,
  TIMEOUT_HELP,
  timeoutBody,
} from '../../daemon/lifecycle-client.ts';

export function registerRestart(program: Command): void {
  program
    .command('restart')
    .description('restart services one replica at a time, without dropping traffic')
    .argument('[services...]', 'services to restart (default: all)')
    .option(TIMEOUT_FLAG, TIMEOUT_HELP)
    .addHelpText(
      'after',
      `
Unlike \`docker compose restart\`, replicas restart one by one and each is drained from the load
balancer first, so a service with 2+ replicas keeps serving. The compose file is not re-read.

Examples:
  $ herd restart web
  $ herd restart -t 3 worker       # each old replica gets 3 s after its stop signal`,
    )
    .action((services: string[], o: { timeout?: string }, cmd: Command) =>
      postLifecycle(cmd, 'restart', services, 'Restarted', timeoutBody(o.timeout)),
    );
}
