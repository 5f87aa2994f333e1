// Runs one healthcheck probe as a real process, the way dockerd execs it into a container:
// CMD argv directly, CMD-SHELL through /bin/sh -c, with the replica's env, cwd and user.
import { spawn, type ChildProcess } from 'node:child_process';
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
  const [file, ...args] = probeArgv(test);
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
  return new Promise((resolve) => new ProbeRun(ctx, start, resolve).spawn(file, args));
}

/** One probe process from spawn to result: it ends with its exit, a timeout or an abort, and
 * resolves once its pipes are drained (or given up on). */
class ProbeRun {
  private readonly output = new LimitedOutput();
  private ending: { exitCode: number; output: string } | undefined;
  private settled = false;
  private child?: ChildProcess;
  private timer?: NodeJS.Timeout;
  private drainTimer?: NodeJS.Timeout;
  private readonly onAbort = () => this.endWith(-1, 'health probe cancelled');

  constructor(
    private readonly ctx: ProbeContext,
    private readonly start: number,
    private readonly resolve: (r: ProbeResult) => void,
  ) {}

  spawn(file: string, args: string[]): void {
    const { ctx } = this;
    const child = spawn(file, args, {
      cwd: ctx.cwd,
      env: ctx.env,
      uid: ctx.uid,
      gid: ctx.gid,
      // Its own process group, so a timeout kills the probe and everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.on('data', (d: Buffer) => this.output.write(d));
    child.stderr.on('data', (d: Buffer) => this.output.write(d));
    this.timer = setTimeout(() => this.timedOut(), safeDelay(ctx.timeoutMs));
    ctx.signal?.addEventListener('abort', this.onAbort, { once: true });
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.ending ??= {
        exitCode: err.code === 'ENOENT' ? 127 : 126,
        output: startError(err, file, ctx),
      };
      this.finish();
    });
    child.on('exit', (code, signal) => {
      this.endWith(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
    // 'close' means every holder of the pipes is gone, so the output is complete.
    child.on('close', () => {
      if (this.ending) this.finish();
    });
  }

  private timedOut(): void {
    const soFar = this.output.toString();
    const limit = formatDuration(this.ctx.timeoutMs);
    this.endWith(
      -1,
      soFar
        ? `Health check exceeded timeout (${limit}): ${soFar}`
        : `Health check exceeded timeout (${limit})`,
    );
  }

  private endWith(exitCode: number, text?: string): void {
    this.ending ??= { exitCode, output: text ?? this.output.toString() };
    // Leftover background children of the probe would hold its pipes open: end them too.
    this.killGroup();
    this.drainTimer ??= setTimeout(() => this.finish(), PIPE_DRAIN_MS);
  }

  private killGroup(): void {
    if (this.child?.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    clearTimeout(this.drainTimer);
    this.ctx.signal?.removeEventListener('abort', this.onAbort);
    this.child?.stdout?.destroy();
    this.child?.stderr?.destroy();
    this.resolve({
      exitCode: this.ending?.exitCode ?? -1,
      output: this.ending?.output ?? this.output.toString(),
      start: this.start,
      end: Date.now(),
    });
  }
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
