// Runs the pieces of examples/noteboard the way herd would (env, cwd, user), without the engine:
// for tests of the example itself before and besides the end-to-end run through herd.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemUser } from './postgres.ts';

export const NOTEBOARD_DIR = fileURLToPath(new URL('../../examples/noteboard/', import.meta.url));

export interface Running {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves when the output matches, rejects when it exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number>;
  /** Kills the whole process group (SIGKILL) if it still runs. */
  kill(): void;
}

export function run(
  argv: string[],
  env: Record<string, string>,
  opts: { asPostgres?: boolean } = {},
): Running {
  const [file, ...args] = argv;
  if (!file) throw new Error('run() needs a command');
  const ids = opts.asPostgres ? systemUser('postgres') : {};
  const child = spawn(file, args, {
    cwd: NOTEBOARD_DIR,
    env,
    ...ids,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
  const killGroup = () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  void exited.then(() => process.removeListener('exit', killGroup));

  return {
    child,
    output: () => out,
    exited,
    kill: killGroup,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const done = (err?: Error) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (pattern.test(out)) done();
        };
        const timer = setTimeout(
          () => done(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${out}`)),
          timeoutMs,
        );
        listeners.add(check);
        void exited.then((code) => {
          if (!pattern.test(out))
            done(new Error(`exited ${code} before ${pattern}; output:\n${out}`));
        });
        check();
      });
    },
  };
}
