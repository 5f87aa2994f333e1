// Runs one healthcheck probe as a real process, the way dockerd execs it into a container:
// CMD argv directly, CMD-SHELL through /bin/sh -c, with the replica's env, cwd and user.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { HealthTest } from '../compose/model.ts';
import { LimitedOutput, formatDuration } from './output.ts';
import { safeDelay } from '../util/timers.ts';

export interface ProbeResult {
  /** 0 healthy; anything else a failure. -1: timed out, cancelled or could not run. */
  exitCode: number;
  /** stdout and stderr interleaved, capped at 4 KiB. */
  output: string;
  /** Epoch ms. */
  start: number;
  end: number;
}

export interface ProbeContext {
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  uid?: number;
  gid?: number;
  /** Aborting kills the probe's process group (the monitor was stopped). */
  signal?: AbortSignal;
}

/** How long to wait for pipes to close after the probe's group is gone (a child that left the
 * group with setsid could hold them open forever). */
const PIPE_DRAIN_MS = 500;

/** The argv a test runs: Compose's CMD-SHELL and string forms go through /bin/sh -c. */
export function probeArgv(test: HealthTest): string[] {
  return test.kind === 'exec' ? test.argv : ['/bin/sh', '-c', test.command];
}

export function runProbe(test: HealthTest, ctx: ProbeContext): Promise<ProbeResult> {
  const start = Date.now();
  const argv = probeArgv(test);
  const [file, ...args] = argv;
  if (!file) {
    return Promise.resolve({
      exitCode: -1,
      output: 'health probe has no command: the healthcheck test is empty',
      start,
      end: Date.now(),
    });
  }
  if (ctx.signal?.aborted) {
    return Promise.resolve({ exitCode: -1, output: 'health probe cancelled', start, end: start });
  }

  return new Promise((resolve) => {
    const output = new LimitedOutput();
    let ending: { exitCode: number; output: string } | undefined;
    let settled = false;

    const child = spawn(file, args, {
      cwd: ctx.cwd,
      env: ctx.env,
      uid: ctx.uid,
      gid: ctx.gid,
      // Its own process group, so a timeout kills the probe and everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => output.write(d));
    child.stderr.on('data', (d: Buffer) => output.write(d));

    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      ctx.signal?.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode: ending?.exitCode ?? -1,
        output: ending?.output ?? output.toString(),
        start,
        end: Date.now(),
      });
    };
    let drainTimer: NodeJS.Timeout | undefined;
    const endWith = (exitCode: number, text?: string) => {
      ending ??= { exitCode, output: text ?? output.toString() };
      // Leftover background children of the probe would hold its pipes open: end them too.
      killGroup();
      drainTimer ??= setTimeout(finish, PIPE_DRAIN_MS);
    };

    const timer = setTimeout(() => {
      const soFar = output.toString();
      const limit = formatDuration(ctx.timeoutMs);
      endWith(
        -1,
        soFar
          ? `Health check exceeded timeout (${limit}): ${soFar}`
          : `Health check exceeded timeout (${limit})`,
      );
    }, safeDelay(ctx.timeoutMs));
    const onAbort = () => endWith(-1, 'health probe cancelled');
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (err: NodeJS.ErrnoException) => {
      ending ??= {
        exitCode: err.code === 'ENOENT' ? 127 : 126,
        output: startError(err, file, ctx),
      };
      finish();
    });
    child.on('exit', (code, signal) => {
      endWith(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
    // 'close' means every holder of the pipes is gone, so the output is complete.
    child.on('close', () => {
      if (ending) finish();
    });
  });
}

function startError(err: NodeJS.ErrnoException, file: string, ctx: ProbeContext): string {
  const why = (() => {
    if (err.code === 'ENOENT' && !existsSync(ctx.cwd)) {
      return `its working directory ${ctx.cwd} does not exist`;
    }
    if (err.code === 'ENOENT') {
      return file.includes('/')
        ? `${file} does not exist`
        : `executable "${file}" was not found in PATH (${ctx.env.PATH ?? 'PATH is not set'})`;
    }
    const as = ctx.uid !== undefined ? ` as uid ${ctx.uid} gid ${ctx.gid ?? ctx.uid}` : '';
    if (err.code === 'EACCES') {
      return `permission denied running ${file} in ${ctx.cwd}${as} (not executable, or the folder is not accessible)`;
    }
    if (err.code === 'EPERM')
      return `not permitted to run it${as} (herd must run as root to switch users)`;
    return err.message;
  })();
  return `health probe could not start: ${why}`;
}
