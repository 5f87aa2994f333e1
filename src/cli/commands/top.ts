// `herd top`: the processes of each running replica.
import type { Command } from 'commander';
import type { TopResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { topText } from '../format/top.ts';

export function registerTop(program: Command): void {
  program
    .command('top')
    .description('show the processes running in each replica')
    .argument('[services...]', 'only these services')
    .addHelpText(
      'after',
      `
Every replica runs in its own process group; all of the group's processes are listed.

Examples:
  $ herd top
  $ herd top worker`,
    )
    .action(async (services: string[], _o: unknown, cmd: Command) => {
      const { client } = await locateDaemon(cmd);
      const top = await client.get<TopResponse>('/v1/top');
      const shown = top.replicas.filter(
        (r) => services.length === 0 || services.includes(r.service),
      );
      process.stdout.write(topText(shown));
    });
}
