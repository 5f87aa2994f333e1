// `herd pause` / `herd unpause`: freeze the running replicas of services and let them run again,
// as `docker compose pause` does; a paused replica takes no traffic until it is unpaused.
import type { Command } from 'commander';
import { postLifecycle } from '../../daemon/lifecycle-client.ts';

export function registerPause(program: Command): void {
  program
    .command('pause')
    .description('pause the running replicas of services (SIGSTOP, the cgroup freezer, or Docker)')
    .argument('[services...]', 'services to pause (default: all)')
    .addHelpText(
      'after',
      `
A paused replica leaves the load balancer at once, is not health-checked or restarted, and shows
as "Up … (Paused)" in \`herd ps\` until \`herd unpause\`. \`herd stop\` of a paused replica unpauses
it first so it can stop gracefully.

Examples:
  $ herd pause worker
  $ herd pause && herd unpause`,
    )
    .action((services: string[], _o: unknown, cmd: Command) =>
      postLifecycle(cmd, 'pause', services, 'Paused'),
    );
}

export function registerUnpause(program: Command): void {
  program
    .command('unpause')
    .description('let paused replicas of services run again; they rejoin the load balancer')
    .argument('[services...]', 'services to unpause (default: all)')
    .addHelpText(
      'after',
      `
An unpaused replica is watched again as after a start: it rejoins the balancer once it is
healthy (with a healthcheck) or accepts connections on its port.

Examples:
  $ herd unpause worker
  $ herd unpause`,
    )
    .action((services: string[], _o: unknown, cmd: Command) =>
      postLifecycle(cmd, 'unpause', services, 'Unpaused'),
    );
}
