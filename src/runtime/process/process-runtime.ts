// The default runtime: each replica is a local child process leading its own process group,
// so stopping it signals everything it started, and, where the machine lets herd write cgroups,
// in a cgroup of its own that enforces its limits (cgroups.ts) and finds what escaped the group.
import type { ChildProcess } from 'node:child_process';
import type { ExitInfo, OutputStream, ReplicaHandle, ReplicaSpec, Runtime } from '../types.ts';
import { forgetBoot } from './boot-priority.ts';
import { LineSplitter } from './lines.ts';
import { groupRssBytes } from './group-memory.ts';
import { cgroups as machineCgroups, type Cgroups } from './cgroups.ts';
import type { ReplicaCgroup } from './replica-cgroup.ts';
import { spawnReplica, type SpawnContext, type Spawned } from './spawn-replica.ts';
import { findPerl } from './spawn-gate.ts';
import { startErrorExitCode } from './start-errors.ts';
import { OutputTail } from './output-files.ts';
import { OutputRelay } from './output-relay.ts';
import type { AdoptionPool } from './adoption.ts';
import { freezeGroup, killGroup, signalNumber, stopGroup } from './group-control.ts';
import { removeRecord, writeRecord } from './replica-record.ts';
import { processStartTime } from '../../util/process-identity.ts';

const MEMORY_POLL_MS = 500;
/** How long to wait for output pipes to close after the leader exited (a grandchild may hold them). */
const PIPE_DRAIN_MS = 500;

class ProcessReplica implements ReplicaHandle {
  readonly id: string;
  readonly pid?: number;
  readonly address?: { host: string; port: number };
  readonly exited: Promise<ExitInfo>;
  startError?: string;
  private resolveExit!: (info: ExitInfo) => void;
  private done = false;
  private readonly output = new OutputRelay();
  /** Set by the polling fallback when it killed the group for its memory. */
  private polledOomKill = false;
  private memoryTimer?: NodeJS.Timeout;
  private readonly cgroup?: ReplicaCgroup;

  constructor(
    private readonly spec: ReplicaSpec,
    spawned: Spawned,
    /** Where its output files are (spawned with them), else its output is piped. */
    private readonly outputDir?: string,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.pid = spawned.child?.pid;
    this.id = String(spawned.child?.pid ?? `unstarted-${spec.name}`);
    if (spec.port !== undefined) this.address = { host: '127.0.0.1', port: spec.port };
    if (spawned.startError !== undefined) {
      this.startError = spawned.startError;
      const exitCode = startErrorExitCode(spawned.startError);
      this.finish({ exitCode, startError: spawned.startError });
      return;
    }
    this.cgroup = spawned.cgroup;
    this.watch(spawned.child, spawned.child.pid);
  }

  private finish(info: ExitInfo): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.memoryTimer);
    if (this.outputDir !== undefined) removeRecord(this.outputDir, this.spec.name);
    this.resolveExit(info);
  }

  private watch(child: ChildProcess, pgid: number): void {
    const outputDone = this.outputDir !== undefined ? this.tail(this.outputDir) : this.pipes(child);
    if (this.spec.memoryLimitBytes !== undefined && !this.cgroup?.enforces('memory'))
      this.pollMemory(pgid, this.spec.memoryLimitBytes);
    child.once('exit', (code, signal) => {
      forgetBoot(pgid);
      // Like a container whose main process ended: nothing it left behind keeps running.
      killGroup(pgid, 'SIGKILL');
      this.cgroup?.killAll();
      const info: ExitInfo =
        signal !== null
          ? { exitCode: 128 + signalNumber(signal), signal }
          : { exitCode: code ?? 0 };
      void outputDone().then(async () => this.finish(await this.outOfMemory(info)));
    });
  }

  /** Output from its files: at the exit, read to their end, then delete them (their lines are
   * with the listeners by then). */
  private tail(dir: string): () => Promise<void> {
    const tail = new OutputTail(dir, this.spec.name, (stream, line) =>
      this.output.emit(stream, line),
    );
    return async () => {
      await tail.catchUp();
      tail.close({ remove: true });
    };
  }

  /** Output from pipes: at the exit, what is still in them (a grandchild may hold them open for a
   * while: not longer than PIPE_DRAIN_MS). */
  private pipes(child: ChildProcess): () => Promise<void> {
    const splitters: LineSplitter[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter((line) => this.output.emit(stream, line));
      splitters.push(splitter);
      child[stream]?.on('data', (chunk: Buffer) => splitter.push(chunk));
    }
    return async () => {
      const pipesClosed = new Promise<void>((resolve) => {
        if (child.stdout?.readableEnded !== false && child.stderr?.readableEnded !== false)
          resolve();
        child.once('close', () => resolve());
      });
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, PIPE_DRAIN_MS).unref());
      await Promise.race([pipesClosed, timeout]);
      for (const s of splitters) s.flush();
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
  }

  /** Where no memory cgroup enforces the limit: the group's resident memory, every 500 ms. */
  private pollMemory(pgid: number, limit: number): void {
    this.memoryTimer = setInterval(() => {
      if (groupRssBytes(pgid) > limit) {
        this.polledOomKill = true;
        killGroup(pgid, 'SIGKILL');
      }
    }, MEMORY_POLL_MS);
    this.memoryTimer.unref();
  }

  /** The exit as reported, with the OOM kill (from the cgroup's events, else from the polling)
   * marked; the cgroup is gone once this resolves. */
  private async outOfMemory(info: ExitInfo): Promise<ExitInfo> {
    if (this.polledOomKill) return { ...info, exitCode: 137, oomKilled: true };
    if (!this.cgroup) return info;
    const oomKills = this.cgroup.oomKills();
    await this.cgroup.remove();
    return oomKills > 0 ? { ...info, oomKilled: true } : info;
  }

  onOutput(listener: (stream: OutputStream, line: string) => void): void {
    this.output.listen(listener);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.pid !== undefined && !this.done) killGroup(this.pid, signal);
  }

  async pause(): Promise<void> {
    if (this.pid !== undefined && !this.done) freezeGroup(this.pid, this.cgroup, true);
  }

  async resume(): Promise<void> {
    if (this.pid !== undefined && !this.done) freezeGroup(this.pid, this.cgroup, false);
  }

  async stop(graceMs?: number): Promise<ExitInfo> {
    if (this.pid === undefined || this.done) return this.exited;
    const grace = graceMs ?? this.spec.stopGracePeriodMs;
    return stopGroup(this.pid, this.spec.stopSignal, grace, this.exited);
  }
}

export interface ProcessRuntimeOptions {
  /** Default: the machine's (one manager per process: discovery and warnings happen once). */
  cgroups?: Cgroups;
  /** The perl of the exact gate; null: /bin/sh is the gate. Default: the machine's, if any. */
  perl?: string | null;
  /** Replicas write their output to files here (`<name>.out`, `.err`; output-files.ts), which
   * outlive the daemon; without it, to pipes the runtime reads (a runtime used in-process). */
  outputDir?: string;
  /** What a daemon that died left running, offered to the slots it belongs to (adoption.ts). */
  adoption?: AdoptionPool;
  /** Replicas boot at a low priority until the caller says booted() (boot-priority.ts). */
  bootPriority?: boolean;
}

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;
  private readonly context: SpawnContext;
  /** Where replicas' output files are (an adopted replica's tail reads them there). */
  readonly outputDir?: string;

  private readonly adoption?: AdoptionPool;

  constructor(opts: ProcessRuntimeOptions = {}) {
    this.outputDir = opts.outputDir;
    this.adoption = opts.adoption;
    this.context = {
      cgroups: opts.cgroups ?? machineCgroups,
      perl: opts.perl !== undefined ? opts.perl : findPerl(),
      outputDir: opts.outputDir,
      bootPriority: opts.bootPriority,
    };
  }

  async start(spec: ReplicaSpec): Promise<ReplicaHandle> {
    const spawned = await spawnReplica(spec, this.context);
    if (spawned.child && this.outputDir !== undefined) this.record(spec, spawned.child.pid);
    return new ProcessReplica(spec, spawned, this.outputDir);
  }

  async adopt(spec: ReplicaSpec): Promise<ReplicaHandle | undefined> {
    return this.adoption?.take(spec);
  }

  /** What a later daemon needs to adopt the replica if this one dies (replica-record.ts). */
  private record(spec: ReplicaSpec, pid: number): void {
    const startTime = processStartTime(pid);
    if (startTime === undefined || this.outputDir === undefined) return;
    try {
      writeRecord(this.outputDir, {
        project: spec.project,
        service: spec.service,
        index: spec.index,
        name: spec.name,
        pid,
        startTime,
        definition: spec.definition,
        port: spec.port,
        startedAt: Date.now(),
      });
    } catch (err) {
      this.context.cgroups.warnOnce(
        `cannot record replica ${spec.name} in ${this.outputDir} ` +
          `(${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): a daemon that ` +
          'takes over after this one dies will restart it instead of adopting it',
        'replica-record',
      );
    }
  }
}

export const processRuntime = new ProcessRuntime();
