// `herd up -d`: start the daemon as a detached process (own session, output to daemon.log) and
// return once its socket answers — or fail with the end of its log when it dies first.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HerdError, isHerdError } from '../util/errors.ts';
import { probeSocket } from './client.ts';
import { ensurePrivateDir, type DaemonPaths } from './paths.ts';

export const HERD_BIN = fileURLToPath(new URL('../../bin/herd.js', import.meta.url));

export interface DetachOptions {
  /** Arguments for bin/herd.js, e.g. ['-f', 'compose.yaml', 'up', '--foreground-daemon']. */
  args: string[];
  /** What runs the arguments; default `node bin/herd.js`. */
  entry?: string[];
  paths: DaemonPaths;
  project: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Each line the daemon logs while it starts (image builds and pulls report there). */
  onLog?: (line: string) => void;
}

export interface DetachedDaemon {
  pid: number;
  /** False when another daemon for the project was starting at the same time (a revival, or a
   * second `herd up -d`) and took the state dir's lock: ours exited, `pid` is the winner's. */
  won: boolean;
  /** How our daemon exited (`exit code 1`), once it has, waiting up to `ms` for it (the verb
   * that finds it gone may hear of that before this process is told); undefined if it runs. */
  exited(ms?: number): Promise<string | undefined>;
  /** The end of the daemon's log since this start (its last words when it died). */
  logTail(): string;
}

/** What a daemon that lost the state dir to another one logs before it exits (its CONFLICT
 * error: "… already running (pid N)" or, from the lock, "… already running or starting …"). */
const LOST_RACE = /^herd: .*\bis already running\b/m;

function tailOf(file: string, from: number, lines = 20): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(the daemon log is empty)';
  } catch {
    return '(no daemon log)';
  }
}

export async function startDetached(opts: DetachOptions): Promise<DetachedDaemon> {
  const { paths } = opts;
  ensurePrivateDir(paths.dir);
  let offset = 0;
  try {
    offset = statSync(paths.daemonLog).size;
  } catch {
    // first start
  }
  const out = openSync(paths.daemonLog, 'a', 0o600);
  let child;
  try {
    const [cmd = process.execPath, ...pre] = opts.entry ?? [process.execPath, HERD_BIN];
    child = spawn(cmd, [...pre, ...opts.args], {
      detached: true, // own session: survives this terminal and its Ctrl-C
      stdio: ['ignore', out, out],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined)
    throw new HerdError(`could not start the herd daemon for project ${opts.project}`, 'FAILED');
  let exit: string | undefined;
  child.once(
    'exit',
    (code, signal) => (exit = signal ? `killed by ${signal}` : `exit code ${code}`),
  );
  child.unref();

  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const follow = opts.onLog ? logFollower(paths.daemonLog, offset, opts.onLog) : () => undefined;
  for (;;) {
    follow();
    // Still starting: a daemon that does not answer yet is waited for, up to the deadline.
    const ping = await probeSocket(paths.socket, 500).catch((err: unknown) => {
      if (isHerdError(err, 'DAEMON_UNRESPONSIVE')) return undefined;
      throw err;
    });
    if (ping && ping.pid === pid) {
      follow();
      return {
        pid,
        won: true,
        exited: async (ms = 0) => {
          const end = Date.now() + ms;
          while (exit === undefined && Date.now() < end)
            await new Promise((r) => setTimeout(r, 50));
          return exit;
        },
        logTail: () => tailOf(paths.daemonLog, offset),
      };
    }
    if (exit !== undefined) {
      // Lost to a daemon starting at the same time: wait for that one, it is the stack's now.
      if (!lostRace(paths.daemonLog, offset))
        throw new HerdError(
          `the herd daemon for project ${opts.project} stopped during start-up (${exit}); ` +
            `last lines of ${paths.daemonLog}:\n${tailOf(paths.daemonLog, offset)}`,
          'FAILED',
        );
      if (ping)
        return {
          pid: ping.pid,
          won: false,
          exited: () => Promise.resolve(undefined),
          logTail: () => tailOf(paths.daemonLog, offset),
        };
    }
    if (Date.now() > deadline) throw notAnswered(opts, pid, exit, offset);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The start's deadline passed: either another daemon holds the state dir and does not answer,
 * or ours runs without answering. */
function notAnswered(
  opts: DetachOptions,
  pid: number,
  exit: string | undefined,
  offset: number,
): HerdError {
  const { paths } = opts;
  const within = `${Math.round((opts.timeoutMs ?? 30_000) / 1000)} s`;
  if (exit !== undefined)
    return new HerdError(
      `another herd daemon for project ${opts.project} holds its state dir but did not ` +
        `answer on ${paths.socket} within ${within} — see ${paths.daemonLog}:\n` +
        tailOf(paths.daemonLog, offset),
      'DAEMON_UNRESPONSIVE',
    );
  return new HerdError(
    `the herd daemon for project ${opts.project} (pid ${pid}) did not answer on ${paths.socket} ` +
      `within ${within}; it keeps running — see ${paths.daemonLog}:\n` +
      tailOf(paths.daemonLog, offset),
    'DAEMON_UNRESPONSIVE',
  );
}

/** True when the log since `from` says our daemon lost the state dir to another one. */
function lostRace(file: string, from: number): boolean {
  try {
    return LOST_RACE.test(readFileSync(file).subarray(from).toString('utf8'));
  } catch {
    return false;
  }
}

/** Reads what `file` gained since the last call and hands over its complete lines. */
function logFollower(file: string, from: number, onLine: (line: string) => void): () => void {
  let offset = from;
  let partial = '';
  return () => {
    let chunk: Buffer;
    try {
      chunk = readFileSync(file).subarray(offset);
    } catch {
      return;
    }
    offset += chunk.length;
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) onLine(l);
  };
}
