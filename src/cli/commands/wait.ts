// `herd wait`: block until every replica of the services has exited for good, as `docker compose
// wait` waits for containers; exits with the exit code of the replica that exited first.
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PsResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { HerdError } from '../../util/errors.ts';

const POLL_MS = 250;

export function registerWait(program: Command): void {
  program
    .command('wait')
    .description('wait until the replicas of services have exited; exit with the first exit code')
    .argument('<services...>', 'services to wait for')
    .addHelpText(
      'after',
      `
A replica that will be restarted (by its restart policy) has not exited for good: wait waits on.
herd prints each replica's exit code as it is known and exits with the code of the replica that
exited first.

Examples:
  $ herd up -d migrate && herd wait migrate && echo migrated
  $ herd wait worker; echo "worker ended with $?"`,
    )
    .action(async (services: string[], _opts: unknown, cmd: Command) => {
      const { client } = await locateDaemon(cmd);
      for (;;) {
        const ps = await client.get<PsResponse>('/v1/ps');
        const unknown = services.filter((s) => !ps.services.some((x) => x.name === s));
        if (unknown.length)
          throw new HerdError(`no such service: ${unknown.join(', ')}`, 'NO_SUCH_SERVICE');
        const replicas = ps.replicas.filter(
          (r) => services.includes(r.service) && r.state !== 'removed',
        );
        if (replicas.every((r) => r.state === 'exited')) {
          const ended = [...replicas].sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
          for (const r of ended)
            process.stdout.write(`${r.name} exited with code ${r.lastExit?.exitCode ?? 0}\n`);
          process.exitCode = ended[0]?.lastExit?.exitCode ?? 0;
          return;
        }
        await sleep(POLL_MS);
      }
    });
}
