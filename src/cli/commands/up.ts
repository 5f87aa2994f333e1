// `herd up`: start the project. In the foreground (default) the engine runs in this process with
// replica output on the console and Ctrl-C stops everything; `-d` runs it in a background daemon.
// Against a daemon that already runs, `up` applies the compose file's changes instead.
import { Option, type Command } from 'commander';
import { isAbsolute, relative } from 'node:path';
import type { Project } from '../../compose/model.ts';
import { HerdError } from '../../util/errors.ts';
import type { ProjectFlags } from '../../daemon/locate.ts';
import { daemonRunning, startInBackground, updateRunning } from '../up/detached.ts';
import {
  checkServices,
  collect,
  globalArgs,
  loaderFor,
  parseScale,
  parseWaitTimeout,
  type UpOptions,
} from '../up/options.ts';
import { HERD_BIN } from '../../daemon/detach.ts';
import { Stack } from '../../daemon/stack.ts';

export { parseScale } from '../up/options.ts';

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the services (all, or the named ones and their dependencies)')
    .argument('[services...]', 'services to start (default: all)')
    .option('--scale <service=n>', 'run N replicas of a service (repeatable)', collect, [])
    .option('-d, --detach', 'run in the background (a herd daemon) and return once started')
    .option(
      '--wait',
      'return once every service is running, or healthy where it has a healthcheck (implies -d)',
    )
    .option('--wait-timeout <seconds>', 'give up waiting after this long (default 300)')
    .option('--build', 'build images of services with `build:` before starting (Docker runtime)')
    .option('--no-color', 'plain output without colours')
    .option('--abort-on-container-exit', 'stop everything when any replica exits for good')
    .addOption(new Option('--foreground-daemon').hideHelp())
    .addHelpText(
      'after',
      `
Run against a project whose daemon already runs, \`up\` applies the compose file's changes,
scales (--scale) and starts stopped services, without restarting what did not change.
\`herd ps\`, \`herd logs\`, \`herd scale\` … work against a foreground \`herd up\` too.

Examples:
  $ herd up                          # foreground; Ctrl-C stops everything
  $ herd up -d --scale web=3         # background daemon, three web replicas
  $ herd up -d --wait --wait-timeout 60
  $ herd -f compose.yaml up web`,
    )
    .action((services: string[], opts: UpOptions) =>
      up(program.opts<ProjectFlags>(), services, opts),
    );
}

async function up(g: ProjectFlags, services: string[], opts: UpOptions): Promise<void> {
  const load = loaderFor(g, services);
  const project = await load();
  if (Object.keys(project.services).length === 0) await noServices(project, g);
  const scale = parseScale(opts.scale, project);
  checkServices(project, services);
  const waitTimeoutMs = parseWaitTimeout(opts.waitTimeout);
  if (opts.waitTimeout !== undefined && !opts.wait)
    throw new HerdError('--wait-timeout only applies with --wait', 'INVALID_ARGUMENT');
  const stack = { services, scale, reload: load, build: opts.build };
  if (opts.foregroundDaemon) {
    // If this daemon dies, its proxy starts it again like this: the same project, the same
    // services, and what `herd scale`/`stop` recorded since (not this start's --scale).
    const revive = {
      argv: [
        process.execPath,
        HERD_BIN,
        ...globalArgs(g),
        'up',
        '--foreground-daemon',
        ...services,
      ],
      cwd: process.cwd(),
    };
    const code = await new Stack(project, { ...stack, console: false, color: false, revive }).run();
    // The daemon is done: do not linger on a handle someone forgot to close.
    setTimeout(() => process.exit(code), 2000).unref();
    process.exitCode = code;
    return;
  }
  const req = {
    project,
    services,
    scale,
    scaleArgs: opts.scale,
    global: globalArgs(g),
    wait: Boolean(opts.wait),
    build: Boolean(opts.build),
    waitTimeoutMs,
  };
  if (await daemonRunning(project)) {
    warn(project);
    await updateRunning(req);
    if (!opts.detach && !opts.wait)
      process.stdout.write(
        `herd: the daemon of project ${project.name} already runs in the background; ` +
          'changes applied — follow it with `herd logs -f`\n',
      );
    return;
  }
  if (opts.detach || opts.wait) {
    warn(project);
    await startInBackground(req);
    return;
  }
  process.exitCode = await new Stack(project, {
    ...stack,
    console: true,
    color: opts.color,
    abortOnContainerExit: opts.abortOnContainerExit,
  }).run();
}

/** The load warnings, here where the user looks (the daemon's own copy goes to its log). */
function warn(project: Project): void {
  for (const w of project.warnings) process.stderr.write(`herd: warning: ${w}\n`);
}

/** `up` of a project with nothing to run: the file has no services, or only ones whose profiles
 * are not enabled. Always throws. */
async function noServices(project: Project, g: ProjectFlags): Promise<never> {
  const files = project.composeFiles
    .map((f) => {
      const rel = relative(process.cwd(), f);
      return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : f;
    })
    .join(', ');
  const all = await loaderFor({ ...g, profile: ['*'] }, [])().catch(() => undefined);
  const gated = Object.values(all?.services ?? {}).filter((s) => s.profiles.length > 0);
  if (gated.length > 0)
    throw new HerdError(
      `no services to run in ${files}: every service needs a profile that is not enabled ` +
        `(${gated.map((s) => `${s.name}: ${s.profiles.join(', ')}`).join('; ')}); ` +
        'enable one with --profile, or name the services: `herd up SERVICE`',
      'NOT_RUNNABLE',
    );
  throw new HerdError(
    `no services to run in ${files}: add a service under \`services:\``,
    'NOT_RUNNABLE',
  );
}
