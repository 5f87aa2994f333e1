// The default runtime: each replica is a local child process leading its own process group,
// so stopping it signals everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync as pathExists } from 'node:fs';
import type { ExitInfo, OutputStream, ReplicaHandle, ReplicaSpec, Runtime } from '../types.ts';
import { LineSplitter } from './lines.ts';
import { groupRssBytes } from './group-memory.ts';
import { safeDelay } from '../../util/timers.ts';

const MEMORY_POLL_MS = 500;
/** How long to wait for output pipes to close after the leader exited (a grandchild may hold them). */
const PIPE_DRAIN_MS = 500;
const BUFFERED_LINES = 1000;

function signalNumber(sig: NodeJS.Signals): number {
  return (constants.signals as Record<string, number>)[sig] ?? 0;
}

/** Signals a whole process group; a group that is already gone is not an error. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

function startErrorText(err: NodeJS.ErrnoException, spec: ReplicaSpec): string {
  const cmd = spec.command[0] ?? '';
  if (err.code === 'ENOENT') return `command not found: ${cmd} (PATH=${spec.env.PATH ?? ''})`;
  if (err.code === 'EACCES' && spec.uid !== undefined) {
    // As another user, the working directory may be what is out of reach, not the program.
    return `not executable: ${cmd} as uid ${spec.uid} (permission denied; can that user enter ${spec.cwd} and run ${cmd}?)`;
  }
  if (err.code === 'EACCES') return `not executable: ${cmd} (permission denied)`;
  if (err.code === 'EPERM')
    return `cannot start ${cmd} as uid ${spec.uid}: operation not permitted`;
  return `cannot start ${cmd}: ${err.message}`;
}

class ProcessReplica implements ReplicaHandle {
  readonly id: string;
  readonly pid?: number;
  readonly address?: { host: string; port: number };
  readonly exited: Promise<ExitInfo>;
  startError?: string;
  private resolveExit!: (info: ExitInfo) => void;
  private done = false;
  private listeners: ((stream: OutputStream, line: string) => void)[] = [];
  private buffered: [OutputStream, string][] = [];
  private oomKilled = false;
  private memoryTimer?: NodeJS.Timeout;
  private graceTimer?: NodeJS.Timeout;

  constructor(
    private readonly spec: ReplicaSpec,
    private readonly child: ChildProcess | undefined,
    startError?: string,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.pid = child?.pid;
    this.id = String(child?.pid ?? `unstarted-${spec.name}`);
    if (spec.port !== undefined) this.address = { host: '127.0.0.1', port: spec.port };
    if (startError !== undefined || !child || child.pid === undefined) {
      this.fail(startError ?? 'could not start');
      return;
    }
    this.watch(child, child.pid);
  }

  private fail(message: string): void {
    this.startError = message;
    const exitCode = /^command not found/.test(message) ? 127 : 126;
    this.finish({ exitCode, startError: message });
  }

  private finish(info: ExitInfo): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.memoryTimer);
    clearTimeout(this.graceTimer);
    this.resolveExit(info);
  }

  private watch(child: ChildProcess, pgid: number): void {
    const splitters: LineSplitter[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter((line) => this.emit(stream, line));
      splitters.push(splitter);
      child[stream]?.on('data', (chunk: Buffer) => splitter.push(chunk));
    }
    if (this.spec.memoryLimitBytes !== undefined) {
      const limit = this.spec.memoryLimitBytes;
      this.memoryTimer = setInterval(() => {
        if (groupRssBytes(pgid) > limit) {
          this.oomKilled = true;
          killGroup(pgid, 'SIGKILL');
        }
      }, MEMORY_POLL_MS);
      this.memoryTimer.unref();
    }
    child.once('exit', (code, signal) => {
      // Like a container whose main process ended: nothing it left behind keeps running.
      killGroup(pgid, 'SIGKILL');
      const info: ExitInfo =
        signal !== null
          ? { exitCode: 128 + signalNumber(signal), signal }
          : { exitCode: code ?? 0 };
      if (this.oomKilled) {
        info.exitCode = 137;
        info.oomKilled = true;
      }
      const pipesClosed = new Promise<void>((resolve) => {
        if (child.stdout?.readableEnded !== false && child.stderr?.readableEnded !== false)
          resolve();
        child.once('close', () => resolve());
      });
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, PIPE_DRAIN_MS).unref());
      void Promise.race([pipesClosed, timeout]).then(() => {
        for (const s of splitters) s.flush();
        child.stdout?.destroy();
        child.stderr?.destroy();
        this.finish(info);
      });
    });
  }

  private emit(stream: OutputStream, line: string): void {
    if (this.listeners.length === 0) {
      if (this.buffered.length < BUFFERED_LINES) this.buffered.push([stream, line]);
      return;
    }
    for (const l of this.listeners) l(stream, line);
  }

  onOutput(listener: (stream: OutputStream, line: string) => void): void {
    this.listeners.push(listener);
    const pending = this.buffered;
    this.buffered = [];
    for (const [s, line] of pending) listener(s, line);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.pid !== undefined && !this.done) killGroup(this.pid, signal);
  }

  async stop(graceMs?: number): Promise<ExitInfo> {
    const pgid = this.pid;
    if (pgid === undefined || this.done) return this.exited;
    killGroup(pgid, this.spec.stopSignal);
    const grace = graceMs ?? this.spec.stopGracePeriodMs;
    this.graceTimer = setTimeout(() => killGroup(pgid, 'SIGKILL'), safeDelay(grace));
    const info = await this.exited;
    // Grandchildren that ignored the signal must not outlive the replica.
    killGroup(pgid, 'SIGKILL');
    return info;
  }
}

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;

  async start(spec: ReplicaSpec): Promise<ReplicaHandle> {
    const [file, ...args] = spec.command;
    if (file === undefined || file === '')
      return new ProcessReplica(spec, undefined, 'no command to run');
    if (!pathExists(spec.cwd)) {
      return new ProcessReplica(spec, undefined, `working directory does not exist: ${spec.cwd}`);
    }
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        uid: spec.uid,
        gid: spec.gid,
      });
    } catch (err) {
      return new ProcessReplica(
        spec,
        undefined,
        startErrorText(err as NodeJS.ErrnoException, spec),
      );
    }
    // spawn reports a missing or non-executable command asynchronously, through 'error'.
    const failure = await new Promise<string | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve(startErrorText(err, spec)));
    });
    if (failure !== undefined) return new ProcessReplica(spec, undefined, failure);
    return new ProcessReplica(spec, child);
  }
}

export const processRuntime = new ProcessRuntime();
