// `herd rollback SERVICE`: the service's previous definition (the one its last change replaced)
// becomes live again, its replicas replaced as its `deploy.rollback_config` says — as
// `docker service rollback` does. Rolling back twice returns to the newer definition.
import type { Command } from 'commander';
import type { ServicesResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';

export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description("go back to a service's previous definition (undo its last change)")
    .argument('<service>', 'the service to roll back')
    .addHelpText(
      'after',
      `
The previous definition is the one the last \`herd up\` with a changed file replaced (or the one
an automatic rollback left). Replicas are replaced as deploy.rollback_config says (Swarm's
defaults: one at a time, stop-first, each watched 5 s). The compose file is not changed: a later
\`herd up\` applies it again.

Examples:
  $ herd rollback web`,
    )
    .action(async (service: string, _opts: unknown, cmd: Command) => {
      const { client } = await locateDaemon(cmd);
      const r = await client.post<ServicesResponse>('/v1/rollback', { service });
      const width = Math.max(0, ...r.replicas.map((n) => n.length));
      for (const n of r.replicas) process.stdout.write(` ✔ ${n.padEnd(width)}  Rolled back\n`);
    });
}
