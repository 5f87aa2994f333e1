// `herd rm`: forget the exited replicas of services, as `docker compose rm` removes stopped
// containers; they leave `ps -a` and the service stays stopped until `herd start` or `up`.
import type { Command } from 'commander';
import type { ServicesResponse } from '../../daemon/api-types.ts';
import { TIMEOUT_FLAG, TIMEOUT_HELP, timeoutBody } from '../../daemon/lifecycle-client.ts';
import { locateDaemon } from '../../daemon/locate.ts';

interface RmOptions {
  stop?: boolean;
  force?: boolean;
  volumes?: boolean;
  timeout?: string;
}

export function registerRm(program: Command): void {
  program
    .command('rm')
    .description('remove exited replicas of services (they leave `herd ps -a`)')
    .argument('[services...]', 'services whose replicas to remove (default: all)')
    .option('-s, --stop', 'stop the services first')
    .option('-f, --force', 'do not ask for confirmation (herd never asks)')
    .option('-v, --volumes', "remove a container's anonymous volumes too (named ones stay)")
    .option(TIMEOUT_FLAG, TIMEOUT_HELP)
    .addHelpText(
      'after',
      `
A service named with a replica still running is refused unless -s stops it first; without
services, those with a running replica are left alone. A removed service stays stopped until
\`herd start\` or \`herd up\`.

Examples:
  $ herd rm migrate
  $ herd rm -s -f worker`,
    )
    .action(async (services: string[], o: RmOptions, cmd: Command) => {
      const { client } = await locateDaemon(cmd);
      const r = await client.post<ServicesResponse>('/v1/rm', {
        services: services.length ? services : undefined,
        stop: o.stop === true,
        volumes: o.volumes === true,
        ...timeoutBody(o.timeout),
      });
      if (r.replicas.length === 0) {
        process.stdout.write('No stopped replicas\n');
        return;
      }
      const width = Math.max(...r.replicas.map((n) => n.length));
      for (const n of r.replicas) process.stdout.write(` ✔ ${n.padEnd(width)}  Removed\n`);
    });
}
