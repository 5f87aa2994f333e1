// The `herd` command line: global options shared by every verb, then one module per verb.
import { Command, CommanderError } from 'commander';
import { registerConfig } from './commands/config.ts';
import { registerUp } from './commands/up.ts';
import { registerPs } from './commands/ps.ts';
import { registerScale } from './commands/scale.ts';
import { registerLogs } from './commands/logs.ts';
import { registerStop } from './commands/stop.ts';
import { registerStart } from './commands/start.ts';
import { registerRestart } from './commands/restart.ts';
import { registerKill } from './commands/kill.ts';
import { registerDown } from './commands/down.ts';
import { registerPort } from './commands/port.ts';
import { registerTop } from './commands/top.ts';
import { registerEvents } from './commands/events.ts';
import { registerConvert } from './commands/convert.ts';
import { HerdError } from '../util/errors.ts';

export function buildProgram(): Command {
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
    // Verb options (like `logs -f`) must not be taken for the global `-f FILE`.
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  registerConfig(program);
  registerUp(program);
  registerPs(program);
  registerScale(program);
  registerLogs(program);
  registerStop(program);
  registerStart(program);
  registerRestart(program);
  registerKill(program);
  registerDown(program);
  registerPort(program);
  registerTop(program);
  registerEvents(program);
  registerConvert(program);
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
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

/** The reader of our output went away: `herd logs -f | head`, or the terminal of a foreground
 * `herd up` closed. A stack running here stops gracefully, as on SIGHUP (its replicas must not
 * be left unsupervised); a client verb just ends, as `docker compose logs | head` does. */
function outputGone(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE' && err.code !== 'EIO') throw err;
  process.stdout.removeListener('error', outputGone);
  process.stdout.on('error', () => {
    // Later writes fail the same way: they have no reader.
  });
  if (process.listenerCount('SIGHUP') > 0) process.emit('SIGHUP', 'SIGHUP');
  else process.exit(0);
}

/** Prints an error the way a user should see it and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof HerdError) {
    process.stderr.write(`herd: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(
    `herd: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 1;
}
