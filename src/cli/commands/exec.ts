// `herd exec`: run a command in a running replica, as `docker compose exec` runs one in a
// container. A process replica's command runs here with the replica's environment, working dir,
// user and cgroup; a container's through the Docker engine's exec.
import type { Command } from 'commander';
import type { ExecTarget } from '../../daemon/api-types.ts';
import { locateDaemon } from '../../daemon/locate.ts';
import { HerdError } from '../../util/errors.ts';
import { runForeground } from '../foreground.ts';
import { parseEnvAssignments } from '../options.ts';
import { collect } from '../up/options.ts';

interface ExecOptions {
  TTY: boolean;
  index: string;
  env: string[];
  workdir?: string;
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('run a command in a running replica of a service')
    .argument('<service>', 'the service')
    .argument('<command...>', 'the command and its arguments')
    .option('-T, --no-TTY', 'no terminal for the command, even when stdin is one')
    .option('--index <n>', 'which replica (1 is the first)', '1')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-w, --workdir <dir>', "working directory (default: the replica's)")
    .passThroughOptions()
    .addHelpText(
      'after',
      `
A process replica's command runs with the replica's environment (PORT, HERD_REPLICA, …), working
dir, user and cgroup (its limits apply); a container's runs through the Docker engine's exec.
herd prints exactly the command's output and exits with its exit code.

Examples:
  $ herd exec web sh                          # a shell beside replica 1 of web
  $ herd exec -T --index 2 web printenv PORT  # replica 2's port, no terminal
  $ herd exec -e DEBUG=1 -w /tmp web ls`,
    )
    .action(async (service: string, argv: string[], opts: ExecOptions, cmd: Command) => {
      const index = Number(opts.index);
      if (!Number.isInteger(index) || index < 1)
        throw new HerdError(
          `--index ${opts.index}: expected a replica number ≥ 1`,
          'INVALID_ARGUMENT',
        );
      const extra = parseEnvAssignments(opts.env);
      const { client, project } = await locateDaemon(cmd);
      const q = new URLSearchParams({ service, index: String(index) });
      const target = await client.get<ExecTarget>(`/v1/exec-target?${q}`);
      if (target.runtime === 'docker') {
        const { dockerExec } = await import('../docker-exec.ts');
        process.exitCode = await dockerExec({ project, service, index }, argv, {
          tty: opts.TTY,
          env: extra,
          workdir: opts.workdir,
        });
        return;
      }
      process.exitCode = await runForeground({
        argv,
        env: { ...target.env, ...extra },
        cwd: opts.workdir ?? target.cwd,
        uid: target.uid,
        gid: target.gid,
        cgroupProcs: target.cgroupProcs,
        tty: opts.TTY,
      });
    });
}
