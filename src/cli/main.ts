// The `herd` command line: global options shared by every verb, then one module per verb. Only the
// module of the verb being run is loaded (each pulls in what it needs: the compose loader, the
// engine, dockerode…), so a quick verb starts quickly; help without a verb loads them all.
import type { Command } from 'commander';
import { HerdError } from '../util/errors.ts';
import { VERSION_FLAGS, printVersionLine } from './version.ts';

type Register = (program: Command) => void;

/** verb → its module's register function, loaded on demand. */
const VERBS: Record<string, () => Promise<Register>> = {
  config: async () => (await import('./commands/config.ts')).registerConfig,
  up: async () => (await import('./commands/up.ts')).registerUp,
  ps: async () => (await import('./commands/ps.ts')).registerPs,
  ls: async () => (await import('./commands/ls.ts')).registerLs,
  scale: async () => (await import('./commands/scale.ts')).registerScale,
  logs: async () => (await import('./commands/logs.ts')).registerLogs,
  exec: async () => (await import('./commands/exec.ts')).registerExec,
  run: async () => (await import('./commands/run.ts')).registerRun,
  stop: async () => (await import('./commands/stop.ts')).registerStop,
  start: async () => (await import('./commands/start.ts')).registerStart,
  restart: async () => (await import('./commands/restart.ts')).registerRestart,
  rollback: async () => (await import('./commands/rollback.ts')).registerRollback,
  kill: async () => (await import('./commands/kill.ts')).registerKill,
  pause: async () => (await import('./commands/pause.ts')).registerPause,
  unpause: async () => (await import('./commands/pause.ts')).registerUnpause,
  rm: async () => (await import('./commands/rm.ts')).registerRm,
  down: async () => (await import('./commands/down.ts')).registerDown,
  port: async () => (await import('./commands/port.ts')).registerPort,
  top: async () => (await import('./commands/top.ts')).registerTop,
  events: async () => (await import('./commands/events.ts')).registerEvents,
  convert: async () => (await import('./commands/convert.ts')).registerConvert,
  dashboard: async () => (await import('./commands/dashboard.ts')).registerDashboard,
  tls: async () => (await import('./commands/tls.ts')).registerTls,
  version: async () => (await import('./commands/version.ts')).registerVersion,
  completion: async () => (await import('./commands/completion.ts')).registerCompletion,
  wait: async () => (await import('./commands/wait.ts')).registerWait,
  systemd: async () => (await import('./commands/systemd.ts')).registerSystemd,
  stats: async () => (await import('./commands/stats.ts')).registerStats,
  build: async () => (await import('./commands/images.ts')).registerBuild,
  pull: async () => (await import('./commands/images.ts')).registerPull,
  images: async () => (await import('./commands/images.ts')).registerImages,
};

/** Global options that take a value (the verb is the first word that is not one of these). */
const VALUE_FLAGS = new Set([
  '-f',
  '--file',
  '-p',
  '--project-name',
  '--project-directory',
  '--env-file',
  '--profile',
]);

/** The verb of a command line (argv without node and the script), if it names one. */
export function verbOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return args[i + 1];
    if (VALUE_FLAGS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** The program with every verb (help, completion, tests), or only `verb`'s when it is one. */
export async function buildProgram(verb?: string): Promise<Command> {
  const { Command } = await import('./commander.ts');
  const program = new Command('herd')
    .description(
      'Run a compose.yaml as scaled, supervised replicas on one machine behind a live load balancer.',
    )
    .option(
      '-f, --file <path>',
      'compose file (repeatable; later files merge over earlier ones)',
      collect,
    )
    .option(
      '-p, --project-name <name>',
      'project name (default: name:, COMPOSE_PROJECT_NAME or folder)',
    )
    .option(
      '--project-directory <dir>',
      "project folder (default: the first compose file's folder)",
    )
    .option('--env-file <path>', 'env file to read instead of .env (repeatable)', collect)
    .option('--profile <name>', 'enable a profile (repeatable; also COMPOSE_PROFILES)', collect)
    .option('-v, --version', 'print the version of herd and exit')
    // Verb options (like `logs -f`) must not be taken for the global `-f FILE`.
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  // `completion` describes every verb, so it gets them all too.
  const one = verb !== undefined && verb !== 'completion' ? VERBS[verb] : undefined;
  const load = one ? [one] : Object.values(VERBS);
  for (const register of await Promise.all(load.map((l) => l()))) register(program);
  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', outputGone);
  process.stderr.on('error', () => {
    // Nowhere left to report to.
  });
  const args = argv.slice(2);
  const verb = verbOf(args);
  try {
    // `herd --version` before anything else is loaded: it is what scripts call to probe for herd.
    if (verb === undefined && args.some((a) => VERSION_FLAGS.includes(a))) {
      printVersionLine();
      return;
    }
    await (await buildProgram(verb)).parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

/** The reader of our output went away: `herd logs -f | head`, or the terminal of a foreground
 * `herd up` closed. A stack running here stops gracefully, as on SIGHUP (its replicas must not
 * be left unsupervised); a client verb just ends, as `docker compose logs | head` does. */
function outputGone(err: NodeJS.ErrnoException): void {
  // Anything else (ENOSPC: a detached daemon's stdout is daemon.log on a full disk) loses the
  // line, never the process.
  if (err.code !== 'EPIPE' && err.code !== 'EIO') return;
  process.stdout.removeListener('error', outputGone);
  process.stdout.on('error', () => {
    // Later writes fail the same way: they have no reader.
  });
  if (process.listenerCount('SIGHUP') > 0) process.emit('SIGHUP', 'SIGHUP');
  else process.exit(0);
}

/** Commander's own errors (usage, --help) carry the exit code; it has printed them already.
 * Recognised by their code, so this module need not load commander to tell. */
function isCommanderError(err: unknown): err is Error & { exitCode: number } {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  return (
    typeof e?.exitCode === 'number' && typeof e.code === 'string' && e.code.startsWith('commander.')
  );
}

/** Prints an error the way a user should see it and returns the exit code. */
export function reportError(err: unknown): number {
  if (isCommanderError(err)) return err.exitCode;
  if (err instanceof HerdError) {
    process.stderr.write(`herd: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(
    `herd: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
}
