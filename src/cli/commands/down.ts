// `herd down`: stop everything and end the project's daemon; also cleans up after a killed one.
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import type { ServicesResponse } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { stopOrphans } from '../../daemon/orphans.ts';
import { readState, removeState } from '../../daemon/state-file.ts';
import { probeSocket } from '../../daemon/client.ts';

export function registerDown(program: Command): void {
  program
    .command('down')
    .description("stop and remove all replicas and stop the project's daemon")
    .option('-v, --volumes', 'also remove named volumes (Docker runtime)')
    .addHelpText(
      'after',
      `
Services stop in reverse dependency order. When the daemon was killed, \`down\` still stops the
replicas it left running (only processes whose PID and start time match its records).

Examples:
  $ herd down
  $ herd down --volumes`,
    )
    .action(async (opts: { volumes?: boolean }, cmd: Command) => {
      const { client, paths, project } = await locateDaemon(cmd);
      if (await probeSocket(paths.socket)) {
        const r = await client.post<ServicesResponse>('/v1/down', {
          volumes: Boolean(opts.volumes),
        });
        for (const n of r.replicas) process.stdout.write(` ✔ ${n}  Removed\n`);
        return;
      }
      // A socket nobody answers on is what a killed daemon leaves behind.
      rmSync(paths.socket, { force: true });
      const state = readState(paths.stateFile);
      if (!state || state.replicas.length === 0) {
        removeState(paths.stateFile);
        process.stderr.write(`herd: no daemon running for project ${project}; nothing to stop\n`);
        return;
      }
      const result = await stopOrphans(state.replicas);
      removeState(paths.stateFile);
      for (const n of result.stopped)
        process.stdout.write(` ✔ ${n}  Removed (left by a dead daemon)\n`);
    });
}
